/* SPDX-License-Identifier: LGPL-2.1-or-later
 * compose tree: the pipeline from a treefile to a (signed) commit, stage by stage: repos,
 * depsolve, input hash, download, import, assemble, postprocess, rpmdb, commit. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct
{
  const char *treefile;
  const char *repo;       /* output repository (usually archive, served over HTTP) */
  const char *cachedir;   /* package cache and build repository; NULL = temporary */
  const char *basearch;
  gboolean dry_run;       /* resolve and print the package list only */
  gboolean force_nocache; /* compose even when the input hash is unchanged */
  const char *gpg_sign;   /* key id, or NULL (then the treefile's gpg-key) */
  const char *gpg_homedir;
  gboolean static_delta;
  const char *write_commitid_to;
  const char *write_composejson_to;
  char **add_metadata_strings; /* KEY=VALUE */
  char **lua_skip_ok;          /* packages whose Lua scriptlets may be skipped */
} TcComposeOptions;

/* Result a{sv}: changed (b), commit (s), version (s), inputhash (s), packages (u),
 * cache-hits (u), objects-written (u), bytes-written (t). "changed" is FALSE when the input
 * hash matched the previous commit (nothing was downloaded or written). */
gboolean tc_compose_tree (const TcComposeOptions *opts, GVariant **out_result,
                          GCancellable *cancellable, GError **error);

G_END_DECLS
