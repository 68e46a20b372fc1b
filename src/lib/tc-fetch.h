/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Fetching files from rpm-md repositories: file:// read in place, http(s):// with libcurl,
 * resumable, with an expected checksum checked before the file is kept. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Fetches @url into @dest_path (written as DEST.part, resumed if that exists, renamed on
 * success). When @sha256 is non-NULL the content must match it. */
gboolean tc_fetch_to_file (const char *url, const char *dest_path, const char *sha256,
                           GCancellable *cancellable, GError **error);

/* Fetches @url into memory (for small metadata files). */
GBytes *tc_fetch_to_bytes (const char *url, GCancellable *cancellable, GError **error);

/* Whether @url is a file:// URL; sets *out_path to its local path. */
gboolean tc_fetch_url_is_local (const char *url, char **out_path);

/* Hex SHA-256 of a file. */
char *tc_sha256_file (const char *path, GError **error);

G_END_DECLS
