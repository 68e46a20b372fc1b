/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Host operations that deploy a new commit: upgrade, deploy a revision, rebase, and the
 * shared step that writes a deployment as the new default. */
#pragma once

#include <ostree.h>

#include "tc-origin.h"

G_BEGIN_DECLS

typedef enum
{
  TC_UPGRADE_FLAGS_NONE = 0,
  TC_UPGRADE_FLAGS_CHECK_ONLY = 1 << 0,
  TC_UPGRADE_FLAGS_ALLOW_DOWNGRADE = 1 << 1,
} TcUpgradeFlags;

/* Every host operation returns an a{sv} result: changed (b), and where known checksum (s),
 * version (s), message (s). */
GVariant *tc_result_new (gboolean changed, const char *checksum, const char *version,
                         const char *message);

/* Deploys @checksum for @osname with @origin, using @merge_deployment for the /etc merge and
 * (unless @kargs is non-NULL) its kernel arguments, and makes it the default. */
gboolean tc_deploy_as_default (OstreeSysroot *sysroot, const char *osname, const char *checksum,
                               TcOrigin *origin, OstreeDeployment *merge_deployment,
                               char **kargs, OstreeDeployment **out_deployment,
                               GCancellable *cancellable, GError **error);

gboolean tc_upgrade (OstreeSysroot *sysroot, const char *osname, TcUpgradeFlags flags,
                     GVariant **out_result, GCancellable *cancellable, GError **error);

/* @revision is a version string or a commit checksum (a prefix of 8+ digits is looked up in
 * the ref's history). */
gboolean tc_deploy_revision (OstreeSysroot *sysroot, const char *osname, const char *revision,
                             GVariant **out_result, GCancellable *cancellable, GError **error);

/* @refspec is REMOTE:REF, or REF to stay on the current remote. */
gboolean tc_rebase (OstreeSysroot *sysroot, const char *osname, const char *refspec,
                    TcUpgradeFlags flags, GVariant **out_result, GCancellable *cancellable,
                    GError **error);

G_END_DECLS
