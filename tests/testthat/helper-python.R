# A Python interpreter that can import `module` ("" when there is none):
# Debian's /usr/bin/python3 first (python3-pot and numpy come from Debian),
# then python3 on the PATH. Tests that compare with numpy or POT skip on "".
python_with <- function(module) {
  candidates <- unique(c("/usr/bin/python3", unname(Sys.which("python3"))))
  for (py in candidates[nzchar(candidates) & file.exists(candidates)]) {
    ok <- suppressWarnings(system2(py, c("-c", shQuote(paste("import", module))),
                                   stdout = FALSE, stderr = FALSE))
    if (identical(ok, 0L)) return(py)
  }
  ""
}
