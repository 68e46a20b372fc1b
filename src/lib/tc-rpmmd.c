/* SPDX-License-Identifier: LGPL-2.1-or-later
 * rpm-md metadata loading into libsolv. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_rpmmd.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/solv_xfopen.h>

#include "tc-fetch.h"
#include "tc-output.h"
#include "tc-rpmmd.h"
#include "tc-util.h"

/* Bump when what is stored in the solv cache changes. */
#define SOLV_CACHE_VERSION "2"

void
tc_repo_free (TcRepo *repo)
{
  if (!repo)
    return;
  g_free (repo->id);
  g_free (repo->name);
  g_free (repo->baseurl);
  g_strfreev (repo->gpgkeys);
  g_free (repo->source_file);
  g_free (repo->repomd_sha256);
  g_free (repo);
}

static char *
expand_vars (const char *value, const char *basearch, const char *releasever)
{
  g_autoptr(GString) s = g_string_new (value);
  g_string_replace (s, "$basearch", basearch, 0);
  g_string_replace (s, "${basearch}", basearch, 0);
  if (releasever)
    {
      g_string_replace (s, "$releasever", releasever, 0);
      g_string_replace (s, "${releasever}", releasever, 0);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

GPtrArray *
tc_repo_file_load (const char *path, const char *basearch, const char *releasever, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    return (tc_throw (error, "repo file %s: %s", path, local_error->message), NULL);
  g_autoptr(GPtrArray) repos = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_repo_free);
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (char **g = groups; *g; g++)
    {
      if (g_key_file_has_key (kf, *g, "enabled", NULL)
          && !g_key_file_get_boolean (kf, *g, "enabled", NULL))
        continue;
      g_autoptr(TcRepo) repo = g_new0 (TcRepo, 1);
      repo->id = g_strdup (*g);
      repo->source_file = g_strdup (path);
      g_autofree char *name = g_key_file_get_string (kf, *g, "name", NULL);
      repo->name = expand_vars (name ? name : *g, basearch, releasever);
      g_autofree char *baseurl = g_key_file_get_string (kf, *g, "baseurl", NULL);
      if (!baseurl || !*g_strstrip (baseurl))
        {
          if (g_key_file_has_key (kf, *g, "metalink", NULL)
              || g_key_file_has_key (kf, *g, "mirrorlist", NULL))
            return (tc_throw (error, "repo file %s: [%s] uses metalink/mirrorlist; treectl needs "
                                     "baseurl",
                              path, *g),
                    NULL);
          return (tc_throw (error, "repo file %s: [%s] has no baseurl", path, *g), NULL);
        }
      /* Several URLs may be listed; the first is used. */
      char *space = strpbrk (baseurl, " \t\n,");
      if (space)
        *space = '\0';
      g_autofree char *expanded = expand_vars (baseurl, basearch, releasever);
      if (strchr (expanded, '$'))
        return (tc_throw (error, "repo file %s: [%s] baseurl %s has an unknown variable", path, *g,
                          expanded),
                NULL);
      if (!g_str_has_prefix (expanded, "file://") && !g_str_has_prefix (expanded, "http://")
          && !g_str_has_prefix (expanded, "https://"))
        return (tc_throw (error, "repo file %s: [%s] baseurl %s: only file:// and http(s):// are "
                                 "supported",
                          path, *g, expanded),
                NULL);
      repo->baseurl = g_str_has_suffix (expanded, "/") ? g_strdup (expanded)
                                                       : g_strconcat (expanded, "/", NULL);
      repo->gpgcheck = g_key_file_get_boolean (kf, *g, "gpgcheck", NULL);
      g_autofree char *gpgkey = g_key_file_get_string (kf, *g, "gpgkey", NULL);
      if (gpgkey)
        {
          g_autofree char *keys = expand_vars (gpgkey, basearch, releasever);
          g_auto(GStrv) parts = g_strsplit_set (keys, " \t\n,", -1);
          g_autoptr(GPtrArray) list = g_ptr_array_new ();
          for (char **p = parts; *p; p++)
            if (**p)
              g_ptr_array_add (list, g_strdup (*p));
          g_ptr_array_add (list, NULL);
          repo->gpgkeys = (char **)g_ptr_array_free (g_steal_pointer (&list), FALSE);
        }
      if (repo->gpgcheck && (!repo->gpgkeys || !repo->gpgkeys[0]))
        return (tc_throw (error, "repo file %s: [%s] has gpgcheck=1 but no gpgkey", path, *g),
                NULL);
      g_ptr_array_add (repos, g_steal_pointer (&repo));
    }
  return g_steal_pointer (&repos);
}

/* One <data> entry of repomd.xml. */
typedef struct
{
  char *type;
  char *href;
  char *checksum_type;
  char *checksum;
} RepomdData;

static void
repomd_data_free (RepomdData *d)
{
  g_free (d->type);
  g_free (d->href);
  g_free (d->checksum_type);
  g_free (d->checksum);
  g_free (d);
}

typedef struct
{
  GPtrArray *entries;
  RepomdData *current;
  gboolean in_checksum;
} RepomdParse;

static void
repomd_start (GMarkupParseContext *ctx, const char *element, const char **names,
              const char **values, gpointer user_data, GError **error)
{
  RepomdParse *p = user_data;
  if (g_str_equal (element, "data"))
    {
      p->current = g_new0 (RepomdData, 1);
      for (guint i = 0; names[i]; i++)
        if (g_str_equal (names[i], "type"))
          p->current->type = g_strdup (values[i]);
      g_ptr_array_add (p->entries, p->current);
    }
  else if (p->current && g_str_equal (element, "location"))
    {
      for (guint i = 0; names[i]; i++)
        if (g_str_equal (names[i], "href"))
          p->current->href = g_strdup (values[i]);
    }
  else if (p->current && g_str_equal (element, "checksum"))
    {
      p->in_checksum = TRUE;
      for (guint i = 0; names[i]; i++)
        if (g_str_equal (names[i], "type"))
          p->current->checksum_type = g_strdup (values[i]);
    }
}

static void
repomd_end (GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
  RepomdParse *p = user_data;
  if (g_str_equal (element, "data"))
    p->current = NULL;
  else if (g_str_equal (element, "checksum"))
    p->in_checksum = FALSE;
}

static void
repomd_text (GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data,
             GError **error)
{
  RepomdParse *p = user_data;
  if (p->current && p->in_checksum && !p->current->checksum)
    {
      g_autofree char *t = g_strndup (text, len);
      p->current->checksum = g_strdup (g_strstrip (t));
    }
}

static GPtrArray *
parse_repomd (GBytes *data, const char *what, GError **error)
{
  static const GMarkupParser parser = { repomd_start, repomd_end, repomd_text, NULL, NULL };
  RepomdParse p = { .entries = g_ptr_array_new_with_free_func ((GDestroyNotify)repomd_data_free) };
  g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new (&parser, 0, &p, NULL);
  gsize len;
  const char *text = g_bytes_get_data (data, &len);
  g_autoptr(GError) local_error = NULL;
  if (!g_markup_parse_context_parse (ctx, text, len, &local_error)
      || !g_markup_parse_context_end_parse (ctx, &local_error))
    {
      g_ptr_array_unref (p.entries);
      return (tc_throw (error, "%s: malformed repomd.xml: %s", what, local_error->message), NULL);
    }
  return p.entries;
}

static GChecksumType
checksum_type_from_name (const char *name, gboolean *ok)
{
  *ok = TRUE;
  if (g_strcmp0 (name, "sha256") == 0)
    return G_CHECKSUM_SHA256;
  if (g_strcmp0 (name, "sha512") == 0)
    return G_CHECKSUM_SHA512;
  if (g_strcmp0 (name, "sha1") == 0 || g_strcmp0 (name, "sha") == 0)
    return G_CHECKSUM_SHA1;
  if (g_strcmp0 (name, "sha384") == 0)
    return G_CHECKSUM_SHA384;
  *ok = FALSE;
  return G_CHECKSUM_SHA256;
}

/* Makes the metadata file available locally (downloading it for http) and checks its
 * checksum against repomd.xml. */
static char *
fetch_metadata (TcRepo *repo, RepomdData *d, const char *cachedir, GCancellable *cancellable,
                GError **error)
{
  g_autofree char *url = g_strconcat (repo->baseurl, d->href, NULL);
  g_autofree char *path = NULL;
  if (!tc_fetch_url_is_local (url, &path))
    {
      g_autofree char *dir = g_build_filename (cachedir, "repodata", repo->id, NULL);
      if (g_mkdir_with_parents (dir, 0755) < 0)
        return (tc_throw_errno_prefix (error, "mkdir %s", dir), NULL);
      g_autofree char *base = g_path_get_basename (d->href);
      path = g_build_filename (dir, base, NULL);
      (void)unlink (path);
      if (!tc_fetch_to_file (url, path, NULL, cancellable, error))
        return NULL;
    }
  else if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such file", url), NULL);

  if (d->checksum)
    {
      gboolean known;
      GChecksumType type = checksum_type_from_name (d->checksum_type, &known);
      if (!known)
        return (tc_throw (error, "repo %s: %s has an unknown checksum type \"%s\"", repo->id,
                          d->href, d->checksum_type),
                NULL);
      g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, error);
      if (!map)
        return NULL;
      g_autofree char *actual = g_compute_checksum_for_data (
          type, (const guchar *)g_mapped_file_get_contents (map), g_mapped_file_get_length (map));
      if (g_ascii_strcasecmp (actual, d->checksum) != 0)
        return (tc_throw (error, "repo %s: %s is corrupt or truncated (%s %s, expected %s)",
                          repo->id, d->href, d->checksum_type, actual, d->checksum),
                NULL);
    }
  return g_steal_pointer (&path);
}

static gboolean
add_rpmmd_file (Repo *solv_repo, TcRepo *repo, const char *path, const char *href, int flags,
                GError **error)
{
  FILE *fp = solv_xfopen (path, "r");
  if (!fp)
    return tc_throw_errno_prefix (error, "repo %s: opening %s", repo->id, href);
  int rc = repo_add_rpmmd (solv_repo, fp, NULL, flags);
  fclose (fp);
  if (rc != 0)
    return tc_throw (error, "repo %s: %s is corrupt: %s", repo->id, href,
                     pool_errstr (solv_repo->pool));
  return TRUE;
}

gboolean
tc_rpmmd_load_repo (Pool *pool, TcRepo *repo, const char *cachedir, Repo **out_repo,
                    GCancellable *cancellable, GError **error)
{
  g_autofree char *repomd_url = g_strconcat (repo->baseurl, "repodata/repomd.xml", NULL);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) repomd = tc_fetch_to_bytes (repomd_url, cancellable, &local_error);
  if (!repomd)
    return tc_throw (error, "repo %s (%s): cannot read repodata/repomd.xml: %s", repo->id,
                     repo->source_file, local_error->message);
  g_free (repo->repomd_sha256);
  repo->repomd_sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, repomd);

  Repo *solv_repo = repo_create (pool, repo->id);
  solv_repo->appdata = repo;

  g_autofree char *solv_dir = g_build_filename (cachedir, "solv", NULL);
  g_autofree char *solv_name
      = g_strdup_printf ("%s-%s-v" SOLV_CACHE_VERSION ".solv", repo->id, repo->repomd_sha256);
  g_autofree char *solv_path = g_build_filename (solv_dir, solv_name, NULL);
  FILE *cached = fopen (solv_path, "r");
  if (cached)
    {
      int rc = repo_add_solv (solv_repo, cached, 0);
      fclose (cached);
      if (rc == 0)
        {
          *out_repo = solv_repo;
          return TRUE;
        }
      /* A damaged cache is rebuilt from the metadata. */
      repo_empty (solv_repo, 1);
      (void)unlink (solv_path);
    }

  g_autoptr(GPtrArray) entries = parse_repomd (repomd, repomd_url, error);
  if (!entries)
    return FALSE;
  RepomdData *primary = NULL, *filelists = NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      RepomdData *d = entries->pdata[i];
      if (!d->type || !d->href)
        continue;
      if (g_str_equal (d->type, "primary"))
        primary = d;
      else if (g_str_equal (d->type, "filelists"))
        filelists = d;
    }
  if (!primary)
    return tc_throw (error, "repo %s: repomd.xml lists no primary metadata", repo->id);
  g_autofree char *primary_path = fetch_metadata (repo, primary, cachedir, cancellable, error);
  if (!primary_path)
    return FALSE;
  if (!add_rpmmd_file (solv_repo, repo, primary_path, primary->href, 0, error))
    return FALSE;
  if (filelists)
    {
      g_autofree char *fl_path
          = fetch_metadata (repo, filelists, cachedir, cancellable, &local_error);
      if (fl_path)
        {
          if (!add_rpmmd_file (solv_repo, repo, fl_path, filelists->href, REPO_EXTEND_SOLVABLES,
                               error))
            return FALSE;
        }
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        tc_output_message ("repo %s: optional %s is missing; skipped", repo->id, filelists->href);
      else
        return (g_propagate_error (error, g_steal_pointer (&local_error)), FALSE);
    }
  repo_internalize (solv_repo);

  /* Cache for the next run; a failure here only costs time. */
  if (g_mkdir_with_parents (solv_dir, 0755) == 0)
    {
      g_autofree char *tmp = g_strconcat (solv_path, ".tmp", NULL);
      FILE *out = fopen (tmp, "w");
      if (out)
        {
          gboolean ok = repo_write (solv_repo, out) == 0;
          ok = (fclose (out) == 0) && ok;
          if (!ok || rename (tmp, solv_path) < 0)
            (void)unlink (tmp);
        }
    }
  *out_repo = solv_repo;
  return TRUE;
}

char *
tc_rpmmd_package_url (Solvable *s)
{
  TcRepo *repo = s->repo->appdata;
  unsigned int medianr;
  const char *location = solvable_get_location (s, &medianr);
  return g_strconcat (repo->baseurl, location, NULL);
}

GPtrArray *
tc_repo_dir_load (const char *dir, const char *basearch, const char *releasever, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &local_error);
  if (!d)
    return (tc_throw (error, "reading repo files: %s", local_error->message), NULL);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (g_str_has_suffix (name, ".repo"))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (files, (GCompareFunc)g_strcmp0);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_repo_free);
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr(GPtrArray) repos = tc_repo_file_load (files->pdata[i], basearch, releasever, error);
      if (!repos)
        return NULL;
      while (repos->len)
        g_ptr_array_add (all, g_ptr_array_steal_index (repos, 0));
    }
  return g_steal_pointer (&all);
}

Pool *
tc_rpmmd_pool_new (const char *basearch, GError **error)
{
  Pool *pool = pool_create ();
  /* Debian builds libsolv for .deb by default: rpm-md needs rpm semantics. */
  if (pool_setdisttype (pool, DISTTYPE_RPM) < 0)
    {
      pool_free (pool);
      return (tc_throw (error, "this libsolv cannot handle rpm packages"), NULL);
    }
  pool_setarch (pool, basearch);
  return pool;
}

gboolean
tc_rpmmd_load_repos (Pool *pool, GPtrArray *repos, const char *cachedir,
                     GCancellable *cancellable, GError **error)
{
  for (guint i = 0; i < repos->len; i++)
    {
      TcRepo *repo = repos->pdata[i];
      tc_output_task_begin ("Loading metadata of repo %s", repo->id);
      Repo *solv_repo = NULL;
      if (!tc_rpmmd_load_repo (pool, repo, cachedir, &solv_repo, cancellable, error))
        {
          tc_output_task_end ("failed");
          return FALSE;
        }
      tc_output_task_end ("%d packages", solv_repo->nsolvables);
    }
  return TRUE;
}
