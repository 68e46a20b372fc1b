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
  /* Leave out entries outside the supported top-level directories (listed in the commit's
   * "treectl.skipped-paths") instead of failing. For packages such as "filesystem" that own
   * the root skeleton (/dev, /proc, /home, /srv ...), which the final tree builds itself. */
  TC_IMPORT_FLAGS_SKIP_UNSUPPORTED = 1 << 2,
} TcImportFlags;

/* Files up to this size are read into memory, hashed with librpm's digests and written as
 * trusted objects: libostree would otherwise hash every byte again with GLib's portable
 * sha256, several times slower than libgcrypt's. Larger files are streamed. The mirror
 * function gets the bytes of the files read into memory. */
#define TC_IMPORTER_INMEMORY_MAX (16 * 1024 * 1024)

typedef gboolean (*TcImportMirrorFunc) (OstreeRepo *repo, const char *checksum, GFileInfo *info,
                                        GVariant *xattrs, GBytes *data, gpointer user_data,
                                        GCancellable *cancellable, GError **error);

typedef struct
{
  TcImportFlags flags;
  /* Directory of an rpm keyring (or NULL): ASCII-armored public keys, one per file, used when
   * a signature is required. */
  const char *keyring_dir;
  /* sha256 the whole .rpm file must have (from repository metadata), or NULL. */
  const char *expected_sha256;
  /* How errors name the file (default: the path). */
  const char *display_name;
  /* Called for every file object written, with its bytes when they are in memory (NULL for
   * large files and symlinks, which are then read back from the repository): compose
   * publishes package files while it imports them. */
  TcImportMirrorFunc mirror;
  gpointer mirror_data;
} TcImportOptions;

/* Writes @data as the content object @checksum with @info's mode, uid and gid and @xattrs,
 * trusting the checksum (it is not computed again); does nothing when @repo has it. */
gboolean tc_importer_write_trusted (OstreeRepo *repo, const char *checksum, GFileInfo *info,
                                    GVariant *xattrs, GBytes *data, GCancellable *cancellable,
                                    GError **error);

/* Reads the RPM at @rpm_path, verifies its digests (and signature when required), and
 * writes its payload to @repo as a commit on ref tc_importer_ref_for_nevra(). Returns the
 * commit checksum. Must be called inside an ostree repo transaction when @in_transaction is
 * TRUE; otherwise it opens and commits its own. Errors name the package and path.
 *
 * The commit has no parent, subject "NAME-EVR.ARCH", the package's build time as timestamp
 * (so importing the same file twice gives the same commit) and this metadata:
 *   treectl.nevra            (sssss) name, epoch ("0" if none), version, release, arch
 *   treectl.rpm.header       ay  the header as librpm read it (signature tags merged in, as
 *                                an rpmdb stores it): headerImport() it to write the rpmdb
 *   treectl.rpm.sha256       s   sha256 of the whole .rpm file
 *   treectl.unpack-version   u   1
 *   treectl.nodocs           b   whether documentation was left out
 *   treectl.nonroot-files    a(sss) tree path (relative, e.g. "usr/bin/write"), user, group
 *                                of each entry owned by anyone but root:root. Such entries are
 *                                stored as 0:0 because the target's passwd does not exist yet;
 *                                assembly chowns them.
 *   treectl.nonroot-setid    a(su) tree path and full mode of the non-root regular files whose
 *                                set-uid/set-gid bits were withheld (stored without them so
 *                                no root-owned set-id file exists before the chown); assembly
 *                                restores the mode after chown, which also drops file caps.
 *   treectl.dropped-var-files as regular files under /var and /run that were left out
 *   treectl.skipped-paths    as  entries left out under TC_IMPORT_FLAGS_SKIP_UNSUPPORTED
 * The last four are present only when not empty. File capabilities are stored as the
 * security.capability xattr of the file's content object. */
gboolean tc_importer_import (OstreeRepo *repo, const char *rpm_path, const TcImportOptions *opts,
                             gboolean in_transaction, char **out_commit, char **out_ref,
                             GCancellable *cancellable, GError **error);

/* "treectl/pkg/<name>/<evr>.<arch>" with each component escaped for ostree refs. */
char *tc_importer_ref_for_nevra (const char *name, const char *epoch, const char *version,
                                 const char *release, const char *arch);

/* Translates a payload path (without leading "/") to where it lives in an ostree tree
 * (relative, normalised; "" for the root directory itself). Returns NULL with a
 * G_IO_ERROR_INVALID_ARGUMENT error for paths that are absolute after normalisation or
 * contain "..", and with G_IO_ERROR_NOT_SUPPORTED ("Unsupported path") for top-level
 * directories a tree cannot hold. *out_tmpfiles_line is set when the entry is replaced by a
 * tmpfiles.d line (directories and symlinks under /var and /run); the returned path is then
 * NULL with no error. NULL with neither error nor line means the entry is left out: regular
 * files under /var and /run, /var and /run themselves, and top-level bin, sbin, lib, lib64
 * symlinks (the final tree has those as links into /usr).
 *
 * /opt: the final tree has /opt -> var/opt, so package content is stored under usr/lib/opt
 * and each top-level entry opt/X also gets a line "L /var/opt/X - - - - /usr/lib/opt/X",
 * which makes /opt/X reach it at runtime; for those both the path and the line are set. */
char *tc_importer_translate_path (const char *path, gboolean is_dir, const char *user,
                                  const char *group, guint mode, const char *symlink_target,
                                  char **out_tmpfiles_line, GError **error);

G_END_DECLS
