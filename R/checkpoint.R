# Checkpoint directories of the long runs (hot_many(), hot_trajectory()).
#
# A directory holds a manifest, `hotalign-checkpoint.rds`, with the kind of
# run, the digest of its inputs and settings and its seed, and one file per
# finished fit, `<key>.rds`. Every file is written atomically: saved to a
# temporary file in the same directory, then renamed over the final name
# (rename() within one file system is atomic), so a run killed at any moment
# leaves only whole files. A rerun with the same directory reads the
# finished fits instead of refitting them, and refuses a directory made for
# other inputs or settings (class "checkpoint").

checkpoint_manifest_name <- "hotalign-checkpoint.rds"

# MD5 of the serialization of `x` (base tools, no dependency)
checkpoint_digest <- function(x) {
  file <- tempfile("hotalign-digest-")
  on.exit(unlink(file))
  con <- file(file, "wb")
  serialize(x, con, version = 3L)
  close(con)
  unname(tools::md5sum(file))
}

checkpoint_write <- function(object, dir, name) {
  tmp <- tempfile(paste0(".", name, "-"), tmpdir = dir, fileext = ".tmp")
  ok <- FALSE
  on.exit(if (!ok) unlink(tmp))
  saveRDS(object, tmp)
  if (!file.rename(tmp, file.path(dir, name))) {
    abort("cannot write `", name, "` in the checkpoint directory `", dir, "`",
          class = "checkpoint", arg = "checkpoint")
  }
  ok <- TRUE
  invisible(name)
}

# Opens (creating it if need be) the checkpoint directory `dir` for a run of
# `kind` whose inputs and settings are `inputs` and seed `seed` (NULL: none
# given). Returns list(dir, seed): with `seed = NULL` the seed recorded in
# the directory, or for a new directory one drawn by `draw_seed()`, so that
# a resumed run draws the same splits. NULL `dir` returns NULL.
checkpoint_open <- function(dir, kind, inputs, seed) {
  if (is.null(dir)) return(NULL)
  if (!is.character(dir) || length(dir) != 1L || is.na(dir) || !nzchar(dir)) {
    abort("`checkpoint` must be NULL or the path of a directory, not ",
          describe(dir), arg = "checkpoint")
  }
  if (file.exists(dir) && !dir.exists(dir)) {
    abort("`checkpoint` must be a directory: `", dir, "` is a file",
          class = "checkpoint", arg = "checkpoint")
  }
  if (!dir.exists(dir) && !dir.create(dir, recursive = TRUE)) {
    abort("cannot create the checkpoint directory `", dir, "`",
          class = "checkpoint", arg = "checkpoint")
  }
  # temporary files left by a run killed while writing
  unlink(list.files(dir, pattern = "^\\..*\\.tmp$", all.files = TRUE,
                    full.names = TRUE))
  digest <- checkpoint_digest(list(kind = kind, inputs = inputs))
  manifest_file <- file.path(dir, checkpoint_manifest_name)
  if (file.exists(manifest_file)) {
    manifest <- tryCatch(readRDS(manifest_file), error = function(e) NULL)
    if (!is.list(manifest) || !identical(manifest$kind, kind) ||
        !identical(manifest$digest, digest)) {
      abort("the checkpoint directory `", dir, "` was made by ",
            if (is.list(manifest) && is.character(manifest$kind))
              paste0("another ", manifest$kind, "() run") else
              "something else",
            " with other data or settings: give a new directory, or empty ",
            "this one to start again", class = "checkpoint", arg = "checkpoint")
    }
    if (!is.null(seed) && !identical(as.double(seed), manifest$seed)) {
      abort("the checkpoint directory `", dir, "` was made with `seed = ",
            format(manifest$seed), "`, not ", format(seed),
            class = "checkpoint", arg = "seed")
    }
    return(list(dir = dir, seed = manifest$seed))
  }
  if (length(checkpoint_keys(list(dir = dir)))) {
    abort("the checkpoint directory `", dir, "` holds fits but no ",
          checkpoint_manifest_name, ": give a new directory",
          class = "checkpoint", arg = "checkpoint")
  }
  seed <- as.double(if (is.null(seed)) draw_seed() else seed)
  checkpoint_write(list(kind = kind, digest = digest, seed = seed,
                        version = as.character(utils::packageVersion("hotalign"))),
                   dir, checkpoint_manifest_name)
  list(dir = dir, seed = seed)
}

# keys of the finished fits in the directory
checkpoint_keys <- function(ck) {
  files <- list.files(ck$dir, pattern = "^fit-.*\\.rds$")
  sub("\\.rds$", "", files)
}

checkpoint_save <- function(ck, key, object) {
  if (!is.null(ck)) checkpoint_write(object, ck$dir, paste0(key, ".rds"))
  invisible(object)
}

# the saved fit of `key`, or NULL when it is not (yet) in the directory
checkpoint_load <- function(ck, key) {
  if (is.null(ck)) return(NULL)
  file <- file.path(ck$dir, paste0(key, ".rds"))
  if (!file.exists(file)) return(NULL)
  tryCatch(readRDS(file), error = function(e) {
    abort("the checkpoint file `", file, "` cannot be read (",
          conditionMessage(e), "): delete it to refit that pair",
          class = "checkpoint", arg = "checkpoint")
  })
}
