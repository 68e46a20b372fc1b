/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Rollback, cleanup and kernel arguments. */
#include "config.h"

#include <string.h>

#include "tc-deployments.h"
#include "tc-origin.h"
#include "tc-output.h"
#include "tc-sysroot.h"
#include "tc-upgrader.h"
#include "tc-util.h"

gboolean
tc_rollback (OstreeSysroot *sysroot, const char *osname, GVariant **out_result,
             GCancellable *cancellable, GError **error)
{
  g_autoptr(OstreeDeployment) current = tc_sysroot_require_current (sysroot, osname, error);
  if (!current)
    return FALSE;
  g_autoptr(OstreeDeployment) rollback = tc_sysroot_get_rollback (sysroot, osname);
  if (!rollback)
    return tc_throw (error, "no rollback deployment: stateroot \"%s\" has only one deployment",
                     osname);

  /* libostree 2022.7 has no rollback call: put the rollback target first and the rest after
   * it in their old order. */
  g_autoptr(GPtrArray) old = ostree_sysroot_get_deployments (sysroot);
  g_autoptr(GPtrArray) new = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (new, g_object_ref (rollback));
  for (guint i = 0; i < old->len; i++)
    if (!ostree_deployment_equal (old->pdata[i], rollback))
      g_ptr_array_add (new, g_object_ref (old->pdata[i]));

  tc_output_task_begin ("Making %.12s the default", ostree_deployment_get_csum (rollback));
  OstreeSysrootWriteDeploymentsOpts opts = { .do_postclean = FALSE };
  if (!ostree_sysroot_write_deployments_with_options (sysroot, new, &opts, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");
  /* Old boot entries of the previous bootversion; nothing is pruned (both commits stay). */
  if (!tc_sysroot_cleanup (sysroot, NULL, NULL, NULL, cancellable, error))
    return FALSE;
  g_autoptr(GVariant) commit = NULL;
  g_autofree char *version = NULL;
  if (ostree_repo_load_commit (ostree_sysroot_repo (sysroot), ostree_deployment_get_csum (rollback),
                               &commit, NULL, NULL))
    version = tc_commit_get_version (commit);
  g_autofree char *msg = g_strdup_printf ("Moved %s.%d (version %s) to be the default deployment",
                                          ostree_deployment_get_csum (rollback),
                                          ostree_deployment_get_deployserial (rollback),
                                          version ? version : "none");
  *out_result = tc_result_new (TRUE, ostree_deployment_get_csum (rollback), version, msg);
  return TRUE;
}

gboolean
tc_cleanup_flags_from_strv (const char *const *elements, TcCleanupFlags *out_flags, GError **error)
{
  TcCleanupFlags flags = 0;
  for (const char *const *it = elements; it && *it; it++)
    {
      if (g_str_equal (*it, "pending"))
        flags |= TC_CLEANUP_PENDING;
      else if (g_str_equal (*it, "rollback"))
        flags |= TC_CLEANUP_ROLLBACK;
      else if (g_str_equal (*it, "repo"))
        flags |= TC_CLEANUP_REPO;
      else
        return tc_throw (error, "unknown cleanup element \"%s\" (expected pending, rollback, repo)",
                         *it);
    }
  if (flags == 0)
    return tc_throw (error, "nothing to clean up: give at least one of pending, rollback, repo");
  *out_flags = flags;
  return TRUE;
}

gboolean
tc_cleanup (OstreeSysroot *sysroot, const char *osname, TcCleanupFlags flags,
            GVariant **out_result, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) old = ostree_sysroot_get_deployments (sysroot);
  g_autoptr(OstreeDeployment) current = NULL;
  for (guint i = 0; i < old->len; i++)
    if (g_str_equal (ostree_deployment_get_osname (old->pdata[i]), osname))
      current = tc_sysroot_require_current (sysroot, osname, NULL);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (sysroot);

  g_autoptr(GPtrArray) new = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_removed = 0;
  gboolean seen_current = FALSE;
  for (guint i = 0; i < old->len; i++)
    {
      OstreeDeployment *d = old->pdata[i];
      gboolean ours = g_str_equal (ostree_deployment_get_osname (d), osname);
      gboolean is_current = current && ostree_deployment_equal (d, current);
      gboolean remove = FALSE;
      if (ours && !is_current && !ostree_deployment_is_pinned (d))
        {
          /* Pending: ahead of the booted deployment. Rollback: behind the current one. */
          if (!seen_current && booted && (flags & TC_CLEANUP_PENDING))
            remove = TRUE;
          if (seen_current && (flags & TC_CLEANUP_ROLLBACK))
            remove = TRUE;
        }
      if (is_current)
        seen_current = TRUE;
      if (remove)
        n_removed++;
      else
        g_ptr_array_add (new, g_object_ref (d));
    }

  GString *msg = g_string_new ("");
  if (n_removed > 0)
    {
      tc_output_task_begin ("Removing %u deployment(s)", n_removed);
      OstreeSysrootWriteDeploymentsOpts opts = { .do_postclean = FALSE };
      if (!ostree_sysroot_write_deployments_with_options (sysroot, new, &opts, cancellable, error))
        {
          tc_output_task_end ("failed");
          g_string_free (msg, TRUE);
          return FALSE;
        }
      tc_output_task_end ("done");
      g_string_append_printf (msg, "Removed %u deployment(s).", n_removed);
    }
  else if (flags & (TC_CLEANUP_PENDING | TC_CLEANUP_ROLLBACK))
    g_string_append (msg, "No deployments to remove.");

  /* Always finish with a cleanup so removed deployments free their space; "repo" also
   * reports what the prune freed. */
  tc_output_task_begin ("Cleaning up boot entries and pruning the repository");
  guint n_pruned = 0, n_total = 0;
  guint64 freed = 0;
  if (!tc_sysroot_cleanup (sysroot, &n_pruned, &n_total, &freed, cancellable, error))
    {
      tc_output_task_end ("failed");
      g_string_free (msg, TRUE);
      return FALSE;
    }
  tc_output_task_end ("done");
  if (flags & TC_CLEANUP_REPO)
    {
      g_autofree char *freed_str = g_format_size (freed);
      g_string_append_printf (msg, "%sPruned %u of %u objects, freed %s.", msg->len ? " " : "",
                              n_pruned, n_total, freed_str);
    }
  g_autofree char *text = g_string_free (msg, FALSE);
  *out_result = tc_result_new (n_removed > 0 || n_pruned > 0, NULL, NULL, text);
  return TRUE;
}

static gboolean
apply_karg_changes (OstreeKernelArgs *kargs, const char *const *append, const char *const *delete,
                    const char *const *replace, GError **error)
{
  for (const char *const *it = delete; it && *it; it++)
    {
      g_autoptr(GError) local_error = NULL;
      if (!ostree_kernel_args_delete (kargs, *it, &local_error))
        return tc_throw (error, "--delete %s: %s", *it, local_error->message);
    }
  for (const char *const *it = replace; it && *it; it++)
    {
      g_autoptr(GError) local_error = NULL;
      if (!strchr (*it, '='))
        return tc_throw (error, "--replace %s: expected KEY=VALUE or KEY=OLD=NEW", *it);
      if (!ostree_kernel_args_new_replace (kargs, *it, &local_error))
        return tc_throw (error, "--replace %s: %s", *it, local_error->message);
    }
  for (const char *const *it = append; it && *it; it++)
    {
      if (**it == '\0' || **it == '=' || strpbrk (*it, " \t\n"))
        return tc_throw (error, "--append \"%s\": not a single KEY or KEY=VALUE argument", *it);
      ostree_kernel_args_append (kargs, *it);
    }
  return TRUE;
}

gboolean
tc_kargs (OstreeSysroot *sysroot, const char *osname, const char *const *append,
          const char *const *delete, const char *const *replace, GVariant **out_result,
          GCancellable *cancellable, GError **error)
{
  g_autoptr(TcOrigin) origin = NULL;
  g_autoptr(OstreeDeployment) current
      = tc_sysroot_require_current_with_origin (sysroot, osname, &origin, error);
  if (!current)
    return FALSE;
  g_autofree char *old_str = tc_deployment_get_kargs (current);
  g_autoptr(OstreeKernelArgs) kargs = ostree_kernel_args_from_string (old_str);
  if (!apply_karg_changes (kargs, append, delete, replace, error))
    return FALSE;
  g_autofree char *new_str = ostree_kernel_args_to_string (kargs);
  if (g_str_equal (old_str, new_str))
    {
      *out_result = tc_result_new (FALSE, NULL, NULL, "Kernel arguments unchanged.");
      return TRUE;
    }
  g_auto(GStrv) argv = ostree_kernel_args_to_strv (kargs);
  if (!tc_deploy_as_default (sysroot, osname, ostree_deployment_get_csum (current), origin, current,
                             argv, NULL, cancellable, error))
    return FALSE;
  g_autofree char *msg = g_strdup_printf ("Kernel arguments are now: %s", new_str);
  *out_result = tc_result_new (TRUE, ostree_deployment_get_csum (current), NULL, msg);
  return TRUE;
}
