/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Pulling from remotes. */
#include "config.h"

#include "tc-output.h"
#include "tc-pull.h"
#include "tc-util.h"

gboolean
tc_repo_require_remote (OstreeRepo *repo, const char *remote, GError **error)
{
  g_auto(GStrv) remotes = ostree_repo_remote_list (repo, NULL);
  if (remotes && g_strv_contains ((const char *const *)remotes, remote))
    return TRUE;
  g_autofree char *known = remotes && remotes[0] ? g_strjoinv (", ", remotes) : g_strdup ("none");
  return tc_throw (error, "remote \"%s\" not found (configured remotes: %s)", remote, known);
}

gboolean
tc_pull (OstreeRepo *repo, const char *remote, const char *ref, const char *override_commit,
         TcPullFlags flags, char **out_checksum, GCancellable *cancellable, GError **error)
{
  if (remote == NULL)
    {
      g_autofree char *checksum = NULL;
      if (override_commit)
        checksum = g_strdup (override_commit);
      else if (!ostree_repo_resolve_rev (repo, ref, TRUE, &checksum, error))
        return FALSE;
      if (!checksum)
        return tc_throw (error, "local ref \"%s\" not found", ref);
      *out_checksum = g_steal_pointer (&checksum);
      return TRUE;
    }

  if (!tc_repo_require_remote (repo, remote, error))
    return FALSE;

  g_auto(GVariantBuilder) opts = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *refs[] = { ref, NULL };
  g_variant_builder_add (&opts, "{sv}", "refs", g_variant_new_strv (refs, -1));
  if (override_commit)
    {
      const char *commits[] = { override_commit, NULL };
      g_variant_builder_add (&opts, "{sv}", "override-commit-ids",
                             g_variant_new_strv (commits, -1));
    }
  OstreeRepoPullFlags pull_flags = OSTREE_REPO_PULL_FLAGS_NONE;
  if (flags & TC_PULL_FLAGS_COMMIT_ONLY)
    pull_flags |= OSTREE_REPO_PULL_FLAGS_COMMIT_ONLY;
  g_variant_builder_add (&opts, "{sv}", "flags", g_variant_new_int32 (pull_flags));
  if (flags & TC_PULL_FLAGS_ALL_HISTORY)
    g_variant_builder_add (&opts, "{sv}", "depth", g_variant_new_int32 (-1));
  g_variant_builder_add (&opts, "{sv}", "n-network-retries", g_variant_new_uint32 (1));
  g_autoptr(GVariant) options = g_variant_ref_sink (g_variant_builder_end (&opts));

  tc_output_task_begin ("Pulling %s:%s", remote, ref);
  g_autoptr(OstreeAsyncProgress) progress = tc_output_new_pull_progress ();
  gboolean ok = ostree_repo_pull_with_options (repo, remote, options, progress, cancellable, error);
  ostree_async_progress_finish (progress);
  if (!ok)
    {
      tc_output_task_end ("failed");
      g_prefix_error (error, "pulling %s:%s: ", remote, ref);
      return FALSE;
    }
  tc_output_task_end ("done");

  g_autofree char *checksum = NULL;
  if (override_commit)
    checksum = g_strdup (override_commit);
  else
    {
      g_autofree char *refspec = g_strconcat (remote, ":", ref, NULL);
      if (!ostree_repo_resolve_rev (repo, refspec, FALSE, &checksum, error))
        return FALSE;
    }
  *out_checksum = g_steal_pointer (&checksum);
  return TRUE;
}
