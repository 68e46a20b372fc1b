/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Sysroot access shared by every host operation. */
#include "config.h"

#include <string.h>

#include "tc-layer.h"
#include "tc-origin.h"
#include "tc-sysroot.h"
#include "tc-util.h"

gboolean
tc_sysroot_check_path (const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return tc_throw (error, "%s: not a directory", path);
  g_autofree char *repo = g_build_filename (path, "ostree", "repo", "config", NULL);
  g_autofree char *deploy = g_build_filename (path, "ostree", "deploy", NULL);
  if (!g_file_test (repo, G_FILE_TEST_EXISTS) || !g_file_test (deploy, G_FILE_TEST_IS_DIR))
    return tc_throw (error,
                     "%s: not an ostree sysroot (no ostree/repo or ostree/deploy); "
                     "use 'treectl --sysroot DIR init' to create one",
                     path);
  return TRUE;
}

gboolean
tc_sysroot_open (const char *path, OstreeSysroot **out_sysroot, GCancellable *cancellable,
                 GError **error)
{
  if (!tc_sysroot_check_path (path, error))
    return FALSE;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(OstreeSysroot) sysroot = ostree_sysroot_new (file);
  if (!ostree_sysroot_load (sysroot, cancellable, error))
    {
      g_prefix_error (error, "loading sysroot %s: ", path);
      return FALSE;
    }
  *out_sysroot = g_steal_pointer (&sysroot);
  return TRUE;
}

OstreeDeployment *
tc_sysroot_require_current (OstreeSysroot *sysroot, const char *osname, GError **error)
{
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (sysroot);
  if (booted && g_str_equal (ostree_deployment_get_osname (booted), osname))
    return g_object_ref (booted);
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments (sysroot);
  for (guint i = 0; i < deployments->len; i++)
    {
      OstreeDeployment *d = deployments->pdata[i];
      if (g_str_equal (ostree_deployment_get_osname (d), osname))
        return g_object_ref (d);
    }
  tc_throw (error, "no deployment of stateroot \"%s\"", osname);
  return NULL;
}

OstreeDeployment *
tc_sysroot_get_rollback (OstreeSysroot *sysroot, const char *osname)
{
  g_autoptr(OstreeDeployment) current = tc_sysroot_require_current (sysroot, osname, NULL);
  if (!current)
    return NULL;
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments (sysroot);
  gboolean after_current = FALSE;
  for (guint i = 0; i < deployments->len; i++)
    {
      OstreeDeployment *d = deployments->pdata[i];
      if (ostree_deployment_equal (d, current))
        after_current = TRUE;
      else if (after_current && g_str_equal (ostree_deployment_get_osname (d), osname))
        return g_object_ref (d);
    }
  return NULL;
}

gboolean
tc_sysroot_write_new_default (OstreeSysroot *sysroot, const char *osname,
                              OstreeDeployment *new_deployment, OstreeDeployment *merge_deployment,
                              GCancellable *cancellable, GError **error)
{
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (sysroot);
  g_autoptr(GPtrArray) old = ostree_sysroot_get_deployments (sysroot);
  g_autoptr(GPtrArray) new = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (new, g_object_ref (new_deployment));
  for (guint i = 0; i < old->len; i++)
    {
      OstreeDeployment *d = old->pdata[i];
      gboolean keep = !g_str_equal (ostree_deployment_get_osname (d), osname)
                      || ostree_deployment_is_pinned (d)
                      || (booted && ostree_deployment_equal (d, booted))
                      || (merge_deployment && ostree_deployment_equal (d, merge_deployment));
      if (keep)
        g_ptr_array_add (new, g_object_ref (d));
    }
  /* libostree's own post-clean prints to stdout; clean up through tc_sysroot_cleanup(). */
  OstreeSysrootWriteDeploymentsOpts opts = { .do_postclean = FALSE };
  if (!ostree_sysroot_write_deployments_with_options (sysroot, new, &opts, cancellable, error))
    return FALSE;
  return tc_sysroot_cleanup (sysroot, NULL, NULL, NULL, cancellable, error);
}

OstreeDeployment *
tc_sysroot_require_current_with_origin (OstreeSysroot *sysroot, const char *osname,
                                        TcOrigin **out_origin, GError **error)
{
  g_autoptr(OstreeDeployment) current = tc_sysroot_require_current (sysroot, osname, error);
  if (!current)
    return NULL;
  *out_origin = tc_origin_new_from_deployment (current, error);
  if (!*out_origin)
    return NULL;
  return g_steal_pointer (&current);
}

gboolean
tc_sysroot_cleanup (OstreeSysroot *sysroot, guint *out_n_pruned, guint *out_n_total,
                    guint64 *out_freed, GCancellable *cancellable, GError **error)
{
  if (!ostree_sysroot_prepare_cleanup (sysroot, cancellable, error))
    {
      g_prefix_error (error, "cleaning up deployments: ");
      return FALSE;
    }
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  /* Layered deployments' bases and package imports are kept by refs; drop unused ones. */
  if (!tc_layer_update_refs (sysroot, cancellable, error))
    {
      g_prefix_error (error, "updating layering refs: ");
      return FALSE;
    }
  /* Everything a ref reaches stays (deployed commits are added by libostree). */
  g_autoptr(GHashTable) reachable = ostree_repo_traverse_new_reachable ();
  if (!ostree_repo_traverse_reachable_refs (repo, 0, reachable, cancellable, error))
    return FALSE;
  OstreeRepoPruneOptions prune_opts = { .flags = OSTREE_REPO_PRUNE_FLAGS_REFS_ONLY,
                                        .reachable = reachable };
  gint n_total = 0, n_pruned = 0;
  guint64 freed = 0;
  if (!ostree_sysroot_cleanup_prune_repo (sysroot, &prune_opts, &n_total, &n_pruned, &freed,
                                          cancellable, error))
    {
      g_prefix_error (error, "pruning the repository: ");
      return FALSE;
    }
  if (out_n_pruned)
    *out_n_pruned = n_pruned;
  if (out_n_total)
    *out_n_total = n_total;
  if (out_freed)
    *out_freed = freed;
  return TRUE;
}

char *
tc_commit_get_version (GVariant *commit)
{
  g_autoptr(GVariant) metadata = g_variant_get_child_value (commit, 0);
  const char *version = NULL;
  if (g_variant_lookup (metadata, OSTREE_COMMIT_META_KEY_VERSION, "&s", &version))
    return g_strdup (version);
  return NULL;
}

char *
tc_deployment_get_kargs (OstreeDeployment *deployment)
{
  OstreeBootconfigParser *bootconfig = ostree_deployment_get_bootconfig (deployment);
  const char *options = bootconfig ? ostree_bootconfig_parser_get (bootconfig, "options") : NULL;
  if (!options)
    return g_strdup ("");
  g_autoptr(OstreeKernelArgs) kargs = ostree_kernel_args_from_string (options);
  ostree_kernel_args_delete_key_entry (kargs, "ostree", NULL);
  return ostree_kernel_args_to_string (kargs);
}

/* One line describing the commit's GPG state for the deployment's remote. */
static void
describe_signature (OstreeRepo *repo, TcOrigin *origin, const char *checksum,
                    GVariantBuilder *builder, GCancellable *cancellable)
{
  gboolean gpg_verify = FALSE;
  if (origin && origin->remote
      && !ostree_repo_remote_get_gpg_verify (repo, origin->remote, &gpg_verify, NULL))
    gpg_verify = FALSE;
  g_variant_builder_add (builder, "{sv}", "gpg-enabled", g_variant_new_boolean (gpg_verify));
  if (!gpg_verify)
    return;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(OstreeGpgVerifyResult) result
      = ostree_repo_verify_commit_for_remote (repo, checksum, origin->remote, cancellable,
                                              &local_error);
  g_autofree char *text = NULL;
  if (!result)
    text = g_strdup_printf ("unsigned or not verifiable: %s", local_error->message);
  else
    {
      guint n_valid = ostree_gpg_verify_result_count_valid (result);
      guint n_all = ostree_gpg_verify_result_count_all (result);
      g_autofree char *fingerprint = NULL;
      for (guint i = 0; i < n_all && !fingerprint; i++)
        {
          g_autoptr(GVariant) sig = ostree_gpg_verify_result_get (
              result, i,
              (OstreeGpgSignatureAttr[]){ OSTREE_GPG_SIGNATURE_ATTR_VALID,
                                          OSTREE_GPG_SIGNATURE_ATTR_FINGERPRINT },
              2);
          gboolean valid = FALSE;
          const char *fpr = NULL;
          g_variant_get_child (sig, 0, "b", &valid);
          g_variant_get_child (sig, 1, "&s", &fpr);
          if (valid)
            fingerprint = g_strdup (fpr);
        }
      if (n_valid > 0)
        text = g_strdup_printf ("valid signature by %s", fingerprint);
      else
        text = g_strdup_printf ("%u signature(s), none valid", n_all);
    }
  g_variant_builder_add (builder, "{sv}", "signature", g_variant_new_string (text));
}

GVariant *
tc_sysroot_describe_deployments (OstreeSysroot *sysroot, GCancellable *cancellable)
{
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments (sysroot);
  OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (sysroot);
  g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < deployments->len; i++)
    {
      OstreeDeployment *d = deployments->pdata[i];
      const char *osname = ostree_deployment_get_osname (d);
      const char *checksum = ostree_deployment_get_csum (d);
      g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
      g_autofree char *id
          = g_strdup_printf ("%s-%s.%d", osname, checksum, ostree_deployment_get_deployserial (d));
      g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (id));
      g_variant_builder_add (&b, "{sv}", "index", g_variant_new_uint32 (i));
      g_variant_builder_add (&b, "{sv}", "osname", g_variant_new_string (osname));
      g_variant_builder_add (&b, "{sv}", "checksum", g_variant_new_string (checksum));
      g_variant_builder_add (&b, "{sv}", "serial",
                             g_variant_new_int32 (ostree_deployment_get_deployserial (d)));

      /* A layered commit is local and unsigned: its base is what was verified. */
      g_autofree char *base = tc_layer_get_base (repo, checksum, NULL);
      g_autoptr(GVariant) commit = NULL;
      if (ostree_repo_load_commit (repo, checksum, &commit, NULL, NULL))
        {
          g_autofree char *version = tc_commit_get_version (commit);
          if (version)
            g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (version));
          g_variant_builder_add (&b, "{sv}", "timestamp",
                                 g_variant_new_uint64 (ostree_commit_get_timestamp (commit)));
          if (base && !g_str_equal (base, checksum))
            g_variant_builder_add (&b, "{sv}", "base-checksum", g_variant_new_string (base));
        }

      g_autoptr(GError) origin_error = NULL;
      g_autoptr(TcOrigin) origin = tc_origin_new_from_deployment (d, &origin_error);
      if (origin)
        {
          g_autofree char *refspec = tc_origin_get_refspec (origin);
          g_variant_builder_add (&b, "{sv}", "origin", g_variant_new_string (refspec));
          if (origin->override_commit)
            g_variant_builder_add (&b, "{sv}", "override-commit",
                                   g_variant_new_string (origin->override_commit));
          g_variant_builder_add (&b, "{sv}", "requested-packages",
                                 g_variant_new_strv ((const char *const *)origin->packages, -1));
          g_variant_builder_add (
              &b, "{sv}", "requested-local-packages",
              g_variant_new_strv ((const char *const *)origin->local_packages, -1));
          g_variant_builder_add (
              &b, "{sv}", "requested-base-removals",
              g_variant_new_strv ((const char *const *)origin->override_remove, -1));
          g_variant_builder_add (
              &b, "{sv}", "requested-base-local-replacements",
              g_variant_new_strv ((const char *const *)origin->override_replace_local, -1));
        }
      else
        g_variant_builder_add (&b, "{sv}", "origin-error",
                               g_variant_new_string (origin_error->message));
      describe_signature (repo, origin, base ? base : checksum, &b, cancellable);

      g_autofree char *kargs = tc_deployment_get_kargs (d);
      g_variant_builder_add (&b, "{sv}", "kargs", g_variant_new_string (kargs));

      g_autoptr(OstreeDeployment) rollback = tc_sysroot_get_rollback (sysroot, osname);
      g_autoptr(OstreeDeployment) current = tc_sysroot_require_current (sysroot, osname, NULL);
      g_variant_builder_add (&b, "{sv}", "booted",
                             g_variant_new_boolean (booted && ostree_deployment_equal (d, booted)));
      g_variant_builder_add (&b, "{sv}", "default", g_variant_new_boolean (i == 0));
      g_variant_builder_add (
          &b, "{sv}", "rollback",
          g_variant_new_boolean (rollback && ostree_deployment_equal (d, rollback)));
      g_variant_builder_add (
          &b, "{sv}", "pending",
          g_variant_new_boolean (booted && current && !ostree_deployment_equal (d, current)
                                 && ostree_deployment_get_index (d)
                                        < ostree_deployment_get_index (current)));
      g_variant_builder_add (&b, "{sv}", "pinned",
                             g_variant_new_boolean (ostree_deployment_is_pinned (d)));
      g_variant_builder_add (&b, "{sv}", "staged",
                             g_variant_new_boolean (ostree_deployment_is_staged (d)));
      g_variant_builder_add_value (&list, g_variant_builder_end (&b));
    }
  return g_variant_builder_end (&list);
}
