/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Fetching commits from a deployment's remote, with progress and GPG verification. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef enum
{
  TC_PULL_FLAGS_NONE = 0,
  TC_PULL_FLAGS_COMMIT_ONLY = 1 << 0, /* only commit objects: enough to compare versions */
  TC_PULL_FLAGS_ALL_HISTORY = 1 << 1, /* every commit in the ref's history (with COMMIT_ONLY) */
} TcPullFlags;

/* Pulls @ref from @remote (or resolves it locally when @remote is NULL). When
 * @override_commit is set, that commit is fetched instead of the ref's tip. Returns the
 * fetched commit's checksum. Errors read "pulling REMOTE:REF: ...". */
gboolean tc_pull (OstreeRepo *repo, const char *remote, const char *ref,
                  const char *override_commit, TcPullFlags flags, char **out_checksum,
                  GCancellable *cancellable, GError **error);

/* Fails unless @remote is configured in @repo. */
gboolean tc_repo_require_remote (OstreeRepo *repo, const char *remote, GError **error);

G_END_DECLS
