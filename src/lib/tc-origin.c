/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Origin keyfile model. */
#include "config.h"

#include "tc-origin.h"
#include "tc-util.h"

void
tc_origin_free (TcOrigin *origin)
{
  if (!origin)
    return;
  g_free (origin->remote);
  g_free (origin->ref);
  g_free (origin->override_commit);
  g_strfreev (origin->packages);
  g_strfreev (origin->local_packages);
  g_strfreev (origin->override_remove);
  g_strfreev (origin->override_replace_local);
  g_clear_pointer (&origin->keyfile, g_key_file_unref);
  g_free (origin);
}

static GKeyFile *
keyfile_copy (GKeyFile *keyfile)
{
  g_autoptr(GKeyFile) copy = g_key_file_new ();
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data (keyfile, &len, NULL);
  if (!g_key_file_load_from_data (copy, data, len, G_KEY_FILE_KEEP_COMMENTS, NULL))
    g_assert_not_reached ();
  return g_steal_pointer (&copy);
}

/* A string list of the keyfile, empty when absent. */
static char **
get_list (GKeyFile *keyfile, const char *group, const char *key)
{
  char **list = g_key_file_get_string_list (keyfile, group, key, NULL, NULL);
  return list ? list : g_new0 (char *, 1);
}

TcOrigin *
tc_origin_new_from_keyfile (GKeyFile *keyfile, const char *name, GError **error)
{
  g_autoptr(TcOrigin) origin = g_new0 (TcOrigin, 1);
  origin->keyfile = keyfile_copy (keyfile);

  g_autofree char *refspec = g_key_file_get_string (keyfile, "origin", "refspec", NULL);
  if (!refspec)
    refspec = g_key_file_get_string (keyfile, "origin", "baserefspec", NULL);
  if (!refspec)
    {
      g_autofree char *unconfigured
          = g_key_file_get_string (keyfile, "origin", "unconfigured-state", NULL);
      if (unconfigured)
        return (tc_throw (error, "origin %s: %s", name, unconfigured), NULL);
      tc_throw (error, "malformed origin %s: no [origin] refspec", name);
      return NULL;
    }
  g_autoptr(GError) local_error = NULL;
  if (!tc_parse_refspec (refspec, &origin->remote, &origin->ref, &local_error))
    {
      tc_throw (error, "malformed origin %s: %s", name, local_error->message);
      return NULL;
    }
  origin->override_commit = g_key_file_get_string (keyfile, "origin", "override-commit", NULL);
  if (origin->override_commit && !ostree_validate_checksum_string (origin->override_commit, NULL))
    {
      tc_throw (error, "malformed origin %s: override-commit \"%s\" is not a checksum", name,
                origin->override_commit);
      return NULL;
    }
  origin->packages = get_list (keyfile, "packages", "requested");
  origin->local_packages = get_list (keyfile, "packages", "requested-local");
  origin->override_remove = get_list (keyfile, "overrides", "remove");
  origin->override_replace_local = get_list (keyfile, "overrides", "replace-local");
  return g_steal_pointer (&origin);
}

TcOrigin *
tc_origin_new_from_deployment (OstreeDeployment *deployment, GError **error)
{
  GKeyFile *keyfile = ostree_deployment_get_origin (deployment);
  g_autofree char *name = g_strdup_printf ("of deployment %s.%d",
                                           ostree_deployment_get_csum (deployment),
                                           ostree_deployment_get_deployserial (deployment));
  if (!keyfile)
    return (tc_throw (error, "malformed origin %s: file missing or unreadable", name), NULL);
  return tc_origin_new_from_keyfile (keyfile, name, error);
}

TcOrigin *
tc_origin_new_from_refspec (const char *refspec, GError **error)
{
  g_autoptr(TcOrigin) origin = g_new0 (TcOrigin, 1);
  origin->keyfile = g_key_file_new ();
  origin->packages = g_new0 (char *, 1);
  origin->local_packages = g_new0 (char *, 1);
  origin->override_remove = g_new0 (char *, 1);
  origin->override_replace_local = g_new0 (char *, 1);
  if (!tc_origin_set_refspec (origin, refspec, error))
    return NULL;
  return g_steal_pointer (&origin);
}

char *
tc_origin_get_refspec (TcOrigin *origin)
{
  if (origin->remote)
    return g_strconcat (origin->remote, ":", origin->ref, NULL);
  return g_strdup (origin->ref);
}

gboolean
tc_origin_set_refspec (TcOrigin *origin, const char *refspec, GError **error)
{
  g_autofree char *remote = NULL;
  g_autofree char *ref = NULL;
  if (!tc_parse_refspec (refspec, &remote, &ref, error))
    return FALSE;
  g_free (origin->remote);
  origin->remote = g_steal_pointer (&remote);
  g_free (origin->ref);
  origin->ref = g_steal_pointer (&ref);
  g_clear_pointer (&origin->override_commit, g_free);
  return TRUE;
}

void
tc_origin_set_override_commit (TcOrigin *origin, const char *checksum)
{
  g_free (origin->override_commit);
  origin->override_commit = g_strdup (checksum);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

gboolean
tc_origin_has_packages (TcOrigin *origin)
{
  return origin->packages[0] != NULL || origin->local_packages[0] != NULL
         || origin->override_remove[0] != NULL || origin->override_replace_local[0] != NULL;
}

static char **
sorted_unique (const char *const *strv)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  for (const char *const *p = strv; p && *p; p++)
    if (!g_ptr_array_find_with_equal_func (sorted, *p, g_str_equal, NULL))
      g_ptr_array_add (sorted, (char *)*p);
  g_ptr_array_sort (sorted, compare_strings);
  g_ptr_array_add (sorted, NULL);
  return g_strdupv ((char **)sorted->pdata);
}

/* Replaces the list in @slot by a sorted, duplicate-free copy of @values. */
static void
set_list (char ***slot, const char *const *values)
{
  char **copy = sorted_unique (values);
  g_strfreev (*slot);
  *slot = copy;
}

void
tc_origin_set_packages (TcOrigin *origin, const char *const *packages)
{
  set_list (&origin->packages, packages);
}

void
tc_origin_set_local_packages (TcOrigin *origin, const char *const *nevras)
{
  set_list (&origin->local_packages, nevras);
}

void
tc_origin_set_override_remove (TcOrigin *origin, const char *const *names)
{
  set_list (&origin->override_remove, names);
}

void
tc_origin_set_override_replace_local (TcOrigin *origin, const char *const *nevras)
{
  set_list (&origin->override_replace_local, nevras);
}

GKeyFile *
tc_origin_to_keyfile (TcOrigin *origin)
{
  g_autoptr(GKeyFile) keyfile = keyfile_copy (origin->keyfile);
  ostree_deployment_origin_remove_transient_state (keyfile);
  g_autofree char *refspec = tc_origin_get_refspec (origin);
  g_key_file_remove_key (keyfile, "origin", "baserefspec", NULL);
  g_key_file_remove_key (keyfile, "origin", "refspec", NULL);
  g_key_file_remove_key (keyfile, "origin", "unconfigured-state", NULL);
  /* As rpm-ostree: a layered deployment names its ref "baserefspec". */
  gboolean layered = tc_origin_has_packages (origin);
  g_key_file_set_string (keyfile, "origin", layered ? "baserefspec" : "refspec", refspec);
  struct
  {
    const char *group, *key;
    char **list;
  } lists[] = { { "packages", "requested", origin->packages },
                { "packages", "requested-local", origin->local_packages },
                { "overrides", "remove", origin->override_remove },
                { "overrides", "replace-local", origin->override_replace_local } };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      if (lists[i].list[0])
        g_key_file_set_string_list (keyfile, lists[i].group, lists[i].key,
                                    (const char *const *)lists[i].list,
                                    g_strv_length (lists[i].list));
      else
        g_key_file_remove_key (keyfile, lists[i].group, lists[i].key, NULL);
      g_auto(GStrv) left = g_key_file_get_keys (keyfile, lists[i].group, NULL, NULL);
      if (left && !left[0])
        g_key_file_remove_group (keyfile, lists[i].group, NULL);
    }
  if (origin->override_commit)
    g_key_file_set_string (keyfile, "origin", "override-commit", origin->override_commit);
  else
    g_key_file_remove_key (keyfile, "origin", "override-commit", NULL);
  return g_steal_pointer (&keyfile);
}
