/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Upgrade, deploy and rebase: fetch a commit, then deploy it as the new default. */
#include "config.h"

#include <string.h>

#include "tc-layer.h"
#include "tc-output.h"
#include "tc-pull.h"
#include "tc-sysroot.h"
#include "tc-upgrader.h"
#include "tc-util.h"

GVariant *
tc_result_new (gboolean changed, const char *checksum, const char *version, const char *message)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "changed", g_variant_new_boolean (changed));
  if (checksum)
    g_variant_builder_add (&b, "{sv}", "checksum", g_variant_new_string (checksum));
  if (version)
    g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (version));
  if (message)
    g_variant_builder_add (&b, "{sv}", "message", g_variant_new_string (message));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static char *
describe_commit (OstreeRepo *repo, const char *checksum)
{
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_commit (repo, checksum, &commit, NULL, NULL))
    return g_strdup (checksum);
  g_autofree char *version = tc_commit_get_version (commit);
  g_autoptr(GDateTime) ts
      = g_date_time_new_from_unix_utc ((gint64)ostree_commit_get_timestamp (commit));
  g_autofree char *ts_str = ts ? g_date_time_format (ts, "%Y-%m-%d %H:%M:%S UTC") : NULL;
  return g_strdup_printf ("%s (version %s, %s)", checksum, version ? version : "none",
                          ts_str ? ts_str : "?");
}

gboolean
tc_deploy_as_default (OstreeSysroot *sysroot, const char *osname, const char *checksum,
                      TcOrigin *origin, OstreeDeployment *merge_deployment, char **kargs,
                      OstreeDeployment **out_deployment, GCancellable *cancellable,
                      GError **error)
{
  g_autoptr(GKeyFile) origin_kf = tc_origin_to_keyfile (origin);
  OstreeSysrootDeployTreeOpts opts = { .override_kernel_argv = kargs };
  g_autoptr(OstreeDeployment) new_deployment = NULL;
  tc_output_task_begin ("Deploying %.12s", checksum);
  if (!ostree_sysroot_deploy_tree_with_options (sysroot, osname, checksum, origin_kf,
                                                merge_deployment, &opts, &new_deployment,
                                                cancellable, error))
    {
      tc_output_task_end ("failed");
      g_prefix_error (error, "deploying %.12s: ", checksum);
      return FALSE;
    }
  tc_test_pause ("deploy");
  if (!tc_sysroot_write_new_default (sysroot, osname, new_deployment, merge_deployment,
                                     cancellable, error))
    {
      tc_output_task_end ("failed");
      g_prefix_error (error, "writing deployments: ");
      return FALSE;
    }
  tc_output_task_end ("done");
  if (out_deployment)
    *out_deployment = g_steal_pointer (&new_deployment);
  return TRUE;
}

static gboolean
check_not_older (OstreeRepo *repo, const char *current_checksum, const char *new_checksum,
                 GError **error)
{
  g_autoptr(GVariant) current = NULL;
  g_autoptr(GVariant) new = NULL;
  if (!ostree_repo_load_commit (repo, current_checksum, &current, NULL, error)
      || !ostree_repo_load_commit (repo, new_checksum, &new, NULL, error))
    return FALSE;
  if (ostree_commit_get_timestamp (new) >= ostree_commit_get_timestamp (current))
    return TRUE;
  g_autofree char *new_desc = describe_commit (repo, new_checksum);
  g_autofree char *current_desc = describe_commit (repo, current_checksum);
  return tc_throw (error,
                   "commit %s is older than the deployed commit %s; use --allow-downgrade to "
                   "deploy it anyway",
                   new_desc, current_desc);
}

static GVariant *
result_for_commit (OstreeRepo *repo, gboolean changed, const char *checksum, const char *message)
{
  g_autoptr(GVariant) commit = NULL;
  g_autofree char *version = NULL;
  if (ostree_repo_load_commit (repo, checksum, &commit, NULL, NULL))
    version = tc_commit_get_version (commit);
  return tc_result_new (changed, checksum, version, message);
}

/* Pulls @origin's target and deploys it over @merge_deployment unless it is already there. */
static gboolean
pull_and_deploy (OstreeSysroot *sysroot, const char *osname, TcOrigin *origin,
                 OstreeDeployment *merge_deployment, TcUpgradeFlags flags, gboolean origin_changed,
                 GVariant **out_result, GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  const char *current_checksum = ostree_deployment_get_csum (merge_deployment);
  TcPullFlags pull_flags
      = (flags & TC_UPGRADE_FLAGS_CHECK_ONLY) ? TC_PULL_FLAGS_COMMIT_ONLY : TC_PULL_FLAGS_NONE;
  g_autofree char *checksum = NULL;
  if (!tc_pull (repo, origin->remote, origin->ref, origin->override_commit, pull_flags, &checksum,
                cancellable, error))
    return FALSE;

  /* A layered deployment is compared by its base. */
  g_autofree char *current_base = tc_layer_get_base (repo, current_checksum, error);
  if (!current_base)
    return FALSE;
  if (g_str_equal (checksum, current_base) && !origin_changed)
    {
      *out_result = result_for_commit (repo, FALSE, checksum, "No update available.");
      return TRUE;
    }
  if (!(flags & TC_UPGRADE_FLAGS_ALLOW_DOWNGRADE)
      && !check_not_older (repo, current_base, checksum, error))
    return FALSE;
  if (flags & TC_UPGRADE_FLAGS_CHECK_ONLY)
    {
      g_autofree char *desc = describe_commit (repo, checksum);
      g_autofree char *msg = g_strdup_printf ("Update available: %s", desc);
      *out_result = result_for_commit (repo, TRUE, checksum, msg);
      return TRUE;
    }
  /* Layered packages are resolved again on the new base; nothing is deployed if they no
   * longer fit. */
  g_autofree char *target = NULL;
  if (!tc_layer_for_deployment (sysroot, merge_deployment, checksum, origin, FALSE, &target,
                                NULL, cancellable, error))
    {
      g_prefix_error (error, "re-applying the layered packages and overrides on %.12s: ",
                      checksum);
      return FALSE;
    }
  if (!tc_deploy_as_default (sysroot, osname, target, origin, merge_deployment, NULL, NULL,
                             cancellable, error))
    return FALSE;
  g_autofree char *desc = describe_commit (repo, target);
  g_autofree char *msg = g_strdup_printf ("Deployed %s; it becomes active at the next boot", desc);
  *out_result = result_for_commit (repo, TRUE, target, msg);
  return TRUE;
}

gboolean
tc_upgrade (OstreeSysroot *sysroot, const char *osname, TcUpgradeFlags flags,
            GVariant **out_result, GCancellable *cancellable, GError **error)
{
  g_autoptr(TcOrigin) origin = NULL;
  g_autoptr(OstreeDeployment) merge
      = tc_sysroot_require_current_with_origin (sysroot, osname, &origin, error);
  if (!merge)
    return FALSE;
  /* An upgrade follows the ref again, leaving a revision pinned by "deploy". */
  gboolean was_pinned = origin->override_commit != NULL;
  tc_origin_set_override_commit (origin, NULL);
  return pull_and_deploy (sysroot, osname, origin, merge, flags, was_pinned, out_result,
                          cancellable, error);
}

/* Walks the ref's history for a commit whose version or checksum matches @revision. */
static gboolean
find_in_history (OstreeRepo *repo, const char *tip, const char *revision, char **out_checksum,
                 GError **error)
{
  gboolean by_checksum = tc_is_checksum_prefix (revision);
  g_autofree char *checksum = g_strdup (tip);
  while (checksum)
    {
      g_autoptr(GVariant) commit = NULL;
      OstreeRepoCommitState state = 0;
      if (!ostree_repo_load_commit (repo, checksum, &commit, &state, NULL))
        break;
      g_autofree char *version = tc_commit_get_version (commit);
      if ((by_checksum && g_str_has_prefix (checksum, revision))
          || (version && g_str_equal (version, revision)))
        {
          *out_checksum = g_steal_pointer (&checksum);
          return TRUE;
        }
      g_autofree char *parent = ostree_commit_get_parent (commit);
      g_free (checksum);
      checksum = g_steal_pointer (&parent);
    }
  *out_checksum = NULL;
  return TRUE;
}

gboolean
tc_deploy_revision (OstreeSysroot *sysroot, const char *osname, const char *revision,
                    GVariant **out_result, GCancellable *cancellable, GError **error)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  g_autoptr(TcOrigin) origin = NULL;
  g_autoptr(OstreeDeployment) merge
      = tc_sysroot_require_current_with_origin (sysroot, osname, &origin, error);
  if (!merge)
    return FALSE;
  if (*revision == '\0')
    return tc_throw (error, "empty revision: give a version or a commit checksum");
  g_autofree char *refspec = tc_origin_get_refspec (origin);

  /* Fetch only the commit objects of the ref's history, then look the revision up there. */
  tc_origin_set_override_commit (origin, NULL);
  g_autofree char *tip = NULL;
  if (!tc_pull (repo, origin->remote, origin->ref, NULL,
                TC_PULL_FLAGS_COMMIT_ONLY | TC_PULL_FLAGS_ALL_HISTORY, &tip, cancellable, error))
    return FALSE;
  g_autofree char *target = NULL;
  if (!find_in_history (repo, tip, revision, &target, error))
    return FALSE;
  if (!target)
    return tc_throw (error, "%s \"%s\" not found in the history of %s",
                     tc_is_checksum_prefix (revision) ? "commit" : "version", revision, refspec);
  g_autofree char *current_base = tc_layer_get_base (repo, ostree_deployment_get_csum (merge),
                                                     error);
  if (!current_base)
    return FALSE;
  if (g_str_equal (target, current_base))
    {
      *out_result = result_for_commit (repo, FALSE, target, "Revision already deployed.");
      return TRUE;
    }
  tc_origin_set_override_commit (origin, target);
  return pull_and_deploy (sysroot, osname, origin, merge, TC_UPGRADE_FLAGS_ALLOW_DOWNGRADE, TRUE,
                          out_result, cancellable, error);
}

gboolean
tc_rebase (OstreeSysroot *sysroot, const char *osname, const char *refspec, TcUpgradeFlags flags,
           GVariant **out_result, GCancellable *cancellable, GError **error)
{
  g_autoptr(TcOrigin) origin = NULL;
  g_autoptr(OstreeDeployment) merge
      = tc_sysroot_require_current_with_origin (sysroot, osname, &origin, error);
  if (!merge)
    return FALSE;
  g_autofree char *old_refspec = tc_origin_get_refspec (origin);
  g_autofree char *full_refspec = NULL;
  if (strchr (refspec, ':') == NULL && origin->remote)
    full_refspec = g_strconcat (origin->remote, ":", refspec, NULL);
  else
    full_refspec = g_strdup (refspec);
  if (!tc_origin_set_refspec (origin, full_refspec, error))
    return FALSE;
  gboolean origin_changed = !g_str_equal (old_refspec, full_refspec);
  /* A rebase moves to another line of history: its commits may well be older. */
  return pull_and_deploy (sysroot, osname, origin, merge, flags | TC_UPGRADE_FLAGS_ALLOW_DOWNGRADE,
                          origin_changed, out_result, cancellable, error);
}
