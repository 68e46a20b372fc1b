/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Small helpers shared by every part of libtreectl: error throwing and test pause points. */
#pragma once

#include <gio/gio.h>
#include <ostree.h>

G_BEGIN_DECLS

/* Exit code for "nothing changed", as rpm-ostree's --unchanged-exit-77. */
#define TC_EXIT_UNCHANGED 77

gboolean tc_throw (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
gboolean tc_throw_errno_prefix (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* A named pause point for tests: when TREECTL_TEST_PAUSE names @point, sleep there for
 * TREECTL_TEST_PAUSE_SECONDS (default 30) so a test can kill the process mid-operation. */
void tc_test_pause (const char *point);

/* Splits "remote:ref" (or "ref", leaving *out_remote NULL). Rejects empty parts. */
gboolean tc_parse_refspec (const char *refspec, char **out_remote, char **out_ref, GError **error);

/* Whether @s looks like a (possibly abbreviated, >= 8 digits) SHA-256 hex checksum. */
gboolean tc_is_checksum_prefix (const char *s);

/* Removes @path and everything below it (symlinks are not followed), clearing the immutable
 * attribute ostree sets on deployment roots. A missing @path is not an error. With
 * @keep_top, @path itself stays (emptied). */
gboolean tc_rm_rf (const char *path, gboolean keep_top, GError **error);

/* Gives the regular file @path an inode of its own (a copy replacing it) when it shares one,
 * so changing it cannot change a hardlinked object in a repository. */
gboolean tc_break_hardlink (const char *path, GError **error);
/* tc_break_hardlink() for every regular file below the directory @dir. */
gboolean tc_break_hardlinks_below (const char *dir, GError **error);

/* The root dirtree and dirmeta checksums of a commit (either out may be NULL). */
void tc_commit_get_root (GVariant *commit, char **out_tree, char **out_meta);

/* The entries of dirtree @checksum in @repo: name -> content checksum of each file, and
 * name -> { dirtree, dirmeta, NULL } of each directory. */
gboolean tc_dirtree_load (OstreeRepo *repo, const char *checksum, GHashTable **out_files,
                          GHashTable **out_dirs, GError **error);

G_END_DECLS
