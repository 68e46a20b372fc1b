/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Host operations that rearrange existing deployments: rollback, cleanup, kernel args. */
#pragma once

#include <ostree.h>

G_BEGIN_DECLS

typedef enum
{
  TC_CLEANUP_PENDING = 1 << 0,
  TC_CLEANUP_ROLLBACK = 1 << 1,
  TC_CLEANUP_REPO = 1 << 2,
} TcCleanupFlags;

gboolean tc_rollback (OstreeSysroot *sysroot, const char *osname, GVariant **out_result,
                      GCancellable *cancellable, GError **error);

gboolean tc_cleanup (OstreeSysroot *sysroot, const char *osname, TcCleanupFlags flags,
                     GVariant **out_result, GCancellable *cancellable, GError **error);

/* Parses cleanup element names ("pending", "rollback", "repo"). */
gboolean tc_cleanup_flags_from_strv (const char *const *elements, TcCleanupFlags *out_flags,
                                     GError **error);

/* Deploys the current commit again with changed kernel arguments, so the old arguments stay
 * available as the rollback. @append: KEY[=VALUE]; @delete: KEY[=VALUE]; @replace:
 * KEY=VALUE or KEY=OLD=NEW. */
gboolean tc_kargs (OstreeSysroot *sysroot, const char *osname, const char *const *append,
                   const char *const *delete, const char *const *replace, GVariant **out_result,
                   GCancellable *cancellable, GError **error);

G_END_DECLS
