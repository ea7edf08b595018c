## JSON writer shared by the reference scripts of issue 12 (metareg, influence,
## sequential monitoring, hazard ratios from reported statistics); versions() and
## reference_out() are used by every reference script.
##
## Every number is written with sprintf("%.17g") so that the JSON holds the R
## double exactly; NA is null, NaN / Inf / -Inf are the strings "NaN", "Inf",
## "-Inf".  A named list is an object, an unnamed list an array; a vector of
## length > 1 is an array, of length 1 a scalar unless wrapped in as_array();
## a matrix is an array of rows.  No time stamps: rerunning with the same R and
## packages reproduces the file byte for byte.

as_array <- function(x) if (is.null(x)) NULL else structure(x, json_array = TRUE)

json_str <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  s <- gsub("\n", "\\\\n", s)
  paste0("\"", s, "\"")
}

json_scalar <- function(v) {
  if (is.character(v)) return(if (is.na(v)) "null" else json_str(v))
  if (is.logical(v)) return(if (is.na(v)) "null" else if (v) "true" else "false")
  if (is.na(v) && !is.nan(v)) return("null")
  if (is.nan(v)) return("\"NaN\"")
  if (is.infinite(v)) return(if (v > 0) "\"Inf\"" else "\"-Inf\"")
  if (is.integer(v)) return(as.character(v))
  sprintf("%.17g", v)
}

to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.matrix(x)) {
    rows <- lapply(seq_len(nrow(x)), function(i) as_array(unname(x[i, ])))
    return(to_json(rows))
  }
  if (is.list(x)) {
    vals <- vapply(x, to_json, character(1))
    if (!is.null(names(x)) && length(x) > 0L) {
      return(paste0("{", paste0(json_str(names(x)), ": ", vals, collapse = ", "), "}"))
    }
    return(paste0("[", paste(vals, collapse = ", "), "]"))
  }
  force_array <- isTRUE(attr(x, "json_array"))
  x <- unname(x)
  if (length(x) == 1L && !force_array) return(json_scalar(x))
  paste0("[", paste(vapply(seq_along(x), function(i) json_scalar(x[i]), character(1)),
                    collapse = ", "), "]")
}

## header: named list written key by key; cases: list written one per line.
write_reference <- function(path, header, cases) {
  head_lines <- paste0("  ", json_str(names(header)), ": ",
                       vapply(header, to_json, character(1)), ",")
  case_lines <- vapply(cases, to_json, character(1))
  lines <- c("{", head_lines, "  \"cases\": [",
             paste0("    ", case_lines, c(rep(",", length(case_lines) - 1L), "")),
             "  ]", "}")
  con <- file(path, open = "wb")
  writeLines(lines, con, sep = "\n")
  close(con)
  cat(sprintf("wrote %s: %d cases\n", path, length(cases)))
}

## R's version and the version of every package attached when it is called (those the script
## loaded with library() and the ones they attach, e.g. metafor's metadat and Matrix), in C-locale
## order: R_version, <package>_version, ...  tests/reference/test_reference_versions.py checks them
## against the pinned list of tests/reference/regenerate.py.
versions <- function() {
  out <- list(R_version = R.version.string)
  for (p in sort(as.character(names(sessionInfo()$otherPkgs)), method = "radix")) {
    out[[paste0(p, "_version")]] <- as.character(packageVersion(p))
  }
  out
}

## Where a reference script writes `default` (a path under tests/): into the folder given as the
## script's first argument (tests/reference/regenerate.py passes a temporary one), else `default`.
reference_out <- function(default) {
  dir <- commandArgs(trailingOnly = TRUE)[1]
  if (is.na(dir)) default else file.path(dir, basename(default))
}
