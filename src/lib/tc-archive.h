/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Content objects for an archive-mode output repo, compressed with libdeflate.
 *
 * An archive repo stores each file as objects/XX/YYYY.filez: ostree's length-prefixed file
 * header, then the content as raw deflate. libostree compresses with zlib through a
 * GConverter, which is most of a full compose's CPU time; libdeflate writes the same format
 * two to three times faster. The objects are staged in a directory below the repo's tmp/,
 * flushed, and linked into objects/ only when the compose publishes (just before the
 * output repo's libostree transaction commits), so a compose that fails leaves objects/ as
 * it was. Dropping the stage removes what it holds. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef struct TcArchiveStage TcArchiveStage;

/* A new, empty stage in @repo, which must be in archive mode. The compression level is the
 * repo's archive.zlib-level (default 6), as libostree's own writes use. */
TcArchiveStage *tc_archive_stage_new (OstreeRepo *repo, GError **error);

/* Stages the regular file object @checksum (which the caller computed over @info, @xattrs and
 * @data). Safe to call from several threads at once; staging a checksum twice is harmless.
 * Fails when writing it would leave the filesystem less free space than the repo's
 * core.min-free-space-percent (default 3). */
gboolean tc_archive_stage_write (TcArchiveStage *stage, const char *checksum, GFileInfo *info,
                                 GVariant *xattrs, GBytes *data, GError **error);

/* Flushes the staged objects to disk (unless the repo disables fsync) and links them into
 * the repo's objects/ (on several threads), then removes the stage's own names in the
 * background. Afterwards the stage takes no more writes. */
gboolean tc_archive_stage_publish (TcArchiveStage *stage, GCancellable *cancellable,
                                   GError **error);

/* Removes the stage and whatever it still holds (waiting for the removal publishing began). */
void tc_archive_stage_free (TcArchiveStage *stage);

/* The archive file header of an object: a big-endian 32-bit length, four zero bytes, then the
 * serialized (tuuuusa(ayay)) of size, uid, gid, mode, rdev (0), symlink target and xattrs. */
GBytes *tc_archive_file_header (GFileInfo *info, GVariant *xattrs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcArchiveStage, tc_archive_stage_free)

G_END_DECLS
