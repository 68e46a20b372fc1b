/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Opening a sysroot, naming its deployments' roles and describing them for status. */
#pragma once

#include <ostree.h>

#include "tc-origin.h"

G_BEGIN_DECLS

/* Opens and loads the sysroot at @path, failing with a clear message when @path is not one. */
gboolean tc_sysroot_open (const char *path, OstreeSysroot **out_sysroot, GCancellable *cancellable,
                          GError **error);

/* Checks that @path looks like an ostree sysroot (ostree/repo and ostree/deploy exist). */
gboolean tc_sysroot_check_path (const char *path, GError **error);

/* The deployment an operation on @osname starts from: the booted one when @osname is booted,
 * otherwise the first deployment of @osname. NULL with an error when there is none. */
OstreeDeployment *tc_sysroot_require_current (OstreeSysroot *sysroot, const char *osname,
                                              GError **error);
/* tc_sysroot_require_current() and its parsed origin, for operations that start from it. */
OstreeDeployment *tc_sysroot_require_current_with_origin (OstreeSysroot *sysroot,
                                                          const char *osname,
                                                          TcOrigin **out_origin, GError **error);
/* The deployment rollback would make the default, or NULL. */
OstreeDeployment *tc_sysroot_get_rollback (OstreeSysroot *sysroot, const char *osname);

/* Writes the deployment list that results from adding @new_deployment as the default for
 * @osname: it keeps the booted deployment, @merge_deployment (as rollback), pinned
 * deployments and other stateroots' deployments, then runs tc_sysroot_cleanup(). */
gboolean tc_sysroot_write_new_default (OstreeSysroot *sysroot, const char *osname,
                                       OstreeDeployment *new_deployment,
                                       OstreeDeployment *merge_deployment,
                                       GCancellable *cancellable, GError **error);

/* Removes what no deployment uses any more (old deployment directories, boot files) and
 * prunes repository objects no ref or deployment reaches. Quiet; reports counts. */
gboolean tc_sysroot_cleanup (OstreeSysroot *sysroot, guint *out_n_pruned, guint *out_n_total,
                             guint64 *out_freed, GCancellable *cancellable, GError **error);

/* Deployments in boot order as aa{sv} (the D-Bus Deployments property). */
GVariant *tc_sysroot_describe_deployments (OstreeSysroot *sysroot, GCancellable *cancellable);

/* The commit's "version" metadata, or NULL. */
char *tc_commit_get_version (GVariant *commit);

/* Kernel arguments of @deployment without the ostree= argument ostree adds itself. */
char *tc_deployment_get_kargs (OstreeDeployment *deployment);

G_END_DECLS
