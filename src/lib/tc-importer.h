/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Importing one RPM into an ostree repository as its own commit, streaming the payload into
 * the object store without unpacking it to disk. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef enum
{
  TC_IMPORT_FLAGS_NONE = 0,
  /* Fail unless the package carries a signature that verifies with a key in keyring_dir. */
  TC_IMPORT_FLAGS_REQUIRE_SIGNATURE = 1 << 0,
  /* Leave documentation files (RPMFILE_DOC) out, as treefile "documentation: false". */
  TC_IMPORT_FLAGS_NODOCS = 1 << 1,
} TcImportFlags;

typedef struct
{
  TcImportFlags flags;
  /* Directory of an rpm keyring (or NULL): ASCII-armored public keys, one per file, used when
   * a signature is required. */
  const char *keyring_dir;
} TcImportOptions;

/* Reads the RPM at @rpm_path, verifies its digests (and signature when required), and
 * writes its payload to @repo as a commit on ref tc_importer_ref_for_nevra(). Returns the
 * commit checksum. Must be called inside an ostree repo transaction when @in_transaction is
 * TRUE; otherwise it opens and commits its own. Errors name the package and path. */
gboolean tc_importer_import (OstreeRepo *repo, const char *rpm_path, const TcImportOptions *opts,
                             gboolean in_transaction, char **out_commit, char **out_ref,
                             GCancellable *cancellable, GError **error);

/* "treectl/pkg/<name>/<evr>.<arch>" with each component escaped for ostree refs. */
char *tc_importer_ref_for_nevra (const char *name, const char *epoch, const char *version,
                                 const char *release, const char *arch);

/* Translates a payload path (without leading "/") to where it lives in an ostree tree.
 * Returns NULL with an error for paths that are absolute after normalisation or contain
 * "..". *out_tmpfiles_line is set when the entry is replaced by a tmpfiles.d line (/var,
 * /run); the returned path is then NULL with no error. */
char *tc_importer_translate_path (const char *path, gboolean is_dir, const char *user,
                                  const char *group, guint mode, const char *symlink_target,
                                  char **out_tmpfiles_line, GError **error);

G_END_DECLS
