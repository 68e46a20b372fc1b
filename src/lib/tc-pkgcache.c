/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The download and import stage shared by compose and layering: every resolved package
 * becomes a commit in the package cache, fetched and imported only when the cache does not
 * already hold an import of exactly that file. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <solv/pool.h>
#include <solv/repo.h>
#include <solv/solvable.h>

#include "tc-fetch.h"
#include "tc-importer.h"
#include "tc-output.h"
#include "tc-pkgcache.h"
#include "tc-rpmmd.h"
#include "tc-util.h"

typedef struct
{
  const TcPkgcacheOptions *opts;
  Pool *pool;
  const Queue *installs;
  guint cache_hits;
} Fetch;

void
tc_split_evr (const char *evr, char **epoch, char **version, char **release)
{
  const char *colon = strchr (evr, ':');
  const char *vstart = colon ? colon + 1 : evr;
  *epoch = colon ? g_strndup (evr, colon - evr) : NULL;
  const char *dash = strrchr (vstart, '-');
  *version = dash ? g_strndup (vstart, dash - vstart) : g_strdup (vstart);
  *release = dash ? g_strdup (dash + 1) : g_strdup ("");
}

static char *
ref_for_solvable (Pool *pool, Solvable *s)
{
  g_autofree char *epoch = NULL, *version = NULL, *release = NULL;
  tc_split_evr (pool_id2str (pool, s->evr), &epoch, &version, &release);
  return tc_importer_ref_for_nevra (pool_id2str (pool, s->name), epoch, version, release,
                                    pool_id2str (pool, s->arch));
}

/* Whether the package cache already holds an import of exactly this package file. */
static char *
cached_import (Fetch *c, Solvable *s, const char *ref)
{
  g_autofree char *commit_csum = NULL;
  if (!ostree_repo_resolve_rev (c->opts->repo, ref, TRUE, &commit_csum, NULL) || !commit_csum)
    return NULL;
  Id type = 0;
  const char *chk = solvable_lookup_checksum (s, SOLVABLE_CHECKSUM, &type);
  if (!chk || type != REPOKEY_TYPE_SHA256)
    return g_steal_pointer (&commit_csum); /* no better identity than the NEVRA */
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_commit (c->opts->repo, commit_csum, &commit, NULL, NULL))
    return NULL;
  g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
  const char *stored = NULL;
  if (g_variant_lookup (md, "treectl.rpm.sha256", "&s", &stored) && g_str_equal (stored, chk))
    return g_steal_pointer (&commit_csum);
  return NULL;
}

char *
tc_pkgcache_keyring (const char *cachedir, const char *name, TcRepo *const *repos, guint n_repos,
                     GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_build_filename (cachedir, "keys", name, NULL);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return (tc_throw_errno_prefix (error, "mkdir %s", dir), NULL);
  if (!tc_rm_rf (dir, TRUE, error))
    return NULL;
  guint n = 0;
  for (guint r = 0; r < n_repos; r++)
    for (char **k = repos[r]->gpgkeys; k && *k; k++, n++)
      {
        g_autoptr(GError) local_error = NULL;
        g_autoptr(GBytes) key = tc_fetch_to_bytes (*k, cancellable, &local_error);
        if (!key)
          return (tc_throw (error, "repo %s: gpgkey %s: %s", repos[r]->id, *k,
                            local_error->message),
                  NULL);
        g_autofree char *file = g_strdup_printf ("%u.asc", n);
        g_autofree char *path = g_build_filename (dir, file, NULL);
        if (!g_file_set_contents (path, g_bytes_get_data (key, NULL), g_bytes_get_size (key),
                                  error))
          return NULL;
      }
  return g_steal_pointer (&dir);
}

/* One package to import, prepared by the download loop for the import threads. */
typedef struct
{
  char *path;
  char *nevra;
  char *sha256;
  TcImportOptions opts;
  gboolean downloaded; /* path is our download, not the repo's own file */
  goffset size;
  char *commit;        /* result */
} ImportJob;

typedef struct
{
  Fetch *c;
  GMutex lock;
  GError *error; /* the first failure; the others stop early */
  GCancellable *cancellable;
  guint n_done;
  guint n_jobs;
} ImportRun;

static void
import_job_run (gpointer data, gpointer user_data)
{
  ImportJob *job = data;
  ImportRun *run = user_data;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *ref = NULL;
  if (!g_cancellable_is_cancelled (run->cancellable))
    tc_importer_import (run->c->opts->repo, job->path, &job->opts, TRUE, &job->commit, &ref,
                        run->cancellable, &local_error);
  g_mutex_lock (&run->lock);
  if (local_error && !run->error)
    {
      run->error = g_steal_pointer (&local_error);
      g_cancellable_cancel (run->cancellable);
    }
  run->n_done++;
  tc_output_percent (run->n_done * 100 / run->n_jobs, "Importing %u packages", run->n_jobs);
  g_mutex_unlock (&run->lock);
}

static void
import_job_free (ImportJob *job)
{
  g_free (job->path);
  g_free (job->nevra);
  g_free (job->sha256);
  g_free (job->commit);
  g_free (job);
}

/* Largest first. */
static gint
compare_job_size (gconstpointer a, gconstpointer b)
{
  const ImportJob *ja = *(ImportJob *const *)a, *jb = *(ImportJob *const *)b;
  return ja->size < jb->size ? 1 : ja->size > jb->size ? -1 : 0;
}

/* Imports the jobs into the package cache in one transaction, on as many threads as the
 * machine has cores (libostree writes objects concurrently; librpm reads each package on
 * its own transaction set). */
static gboolean
import_parallel (Fetch *c, GPtrArray *jobs, GCancellable *cancellable, GError **error)
{
  if (jobs->len == 0)
    return TRUE;
  g_autoptr(GCancellable) stop = g_cancellable_new ();
  gulong forward = cancellable ? g_cancellable_connect (cancellable, G_CALLBACK (g_cancellable_cancel),
                                                        stop, NULL)
                               : 0;
  ImportRun run = { .c = c, .cancellable = stop, .n_jobs = jobs->len };
  g_mutex_init (&run.lock);
  guint n_threads = CLAMP (g_get_num_processors (), 1, 4);
  GThreadPool *pool = g_thread_pool_new (import_job_run, &run, n_threads, TRUE, error);
  if (!pool)
    return FALSE;
  /* Not g_ptr_array_copy(): the copy would free the jobs with the array. */
  g_autoptr(GPtrArray) order = g_ptr_array_sized_new (jobs->len);
  for (guint i = 0; i < jobs->len; i++)
    g_ptr_array_add (order, jobs->pdata[i]);
  g_ptr_array_sort (order, compare_job_size);
  for (guint i = 0; i < order->len; i++)
    g_thread_pool_push (pool, order->pdata[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  if (forward)
    g_cancellable_disconnect (cancellable, forward);
  g_mutex_clear (&run.lock);
  if (run.error)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
fetch_and_import (Fetch *c, GPtrArray *pkg_commits, GPtrArray *pkg_names,
                  GCancellable *cancellable, GError **error)
{
  g_autofree char *pkgdir = g_build_filename (c->opts->cachedir, "packages", NULL);
  if (g_mkdir_with_parents (pkgdir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", pkgdir);
  g_autoptr(GHashTable) keyrings = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  gboolean nodocs = c->opts->nodocs;
  guint n = c->installs->count;
  /* Slot i of pkg_commits is filled here for cached packages, after the import otherwise. */
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify)import_job_free);
  g_autofree ImportJob **job_of = g_new0 (ImportJob *, n);
  for (guint i = 0; i < n; i++)
    {
      Solvable *s = pool_id2solvable (c->pool, c->installs->elements[i]);
      const char *nevra = pool_solvable2str (c->pool, s);
      g_ptr_array_add (pkg_names, g_strdup (nevra));
      g_autofree char *ref = ref_for_solvable (c->pool, s);
      g_autofree char *commit_csum = cached_import (c, s, ref);
      if (commit_csum)
        {
          c->cache_hits++;
          g_ptr_array_add (pkg_commits, g_steal_pointer (&commit_csum));
          continue;
        }
      g_ptr_array_add (pkg_commits, NULL);
      TcRepo *repo = s->repo->appdata;
      g_autofree char *url = tc_rpmmd_package_url (s);
      Id type = 0;
      const char *chk = solvable_lookup_checksum (s, SOLVABLE_CHECKSUM, &type);
      const char *sha256 = type == REPOKEY_TYPE_SHA256 ? chk : NULL;
      g_autofree char *path = NULL;
      gboolean downloaded = FALSE;
      if (!tc_fetch_url_is_local (url, &path))
        {
          downloaded = TRUE;
          g_autofree char *base = g_path_get_basename (url);
          path = g_build_filename (pkgdir, base, NULL);
          tc_output_task_begin ("Downloading %s", nevra);
          if (!tc_fetch_to_file (url, path, sha256, cancellable, error))
            {
              tc_output_task_end ("failed");
              g_prefix_error (error, "downloading %s: ", nevra);
              return FALSE;
            }
          tc_output_task_end ("done");
        }
      else if (!tc_fetch_to_file (url, NULL, NULL, cancellable, error))
        {
          /* A local file is checked against its checksum while it is imported. */
          g_prefix_error (error, "package %s: ", nevra);
          return FALSE;
        }
      ImportJob *job = g_new0 (ImportJob, 1);
      job->path = g_steal_pointer (&path);
      job->downloaded = downloaded;
      job->nevra = g_strdup (nevra);
      job->opts.flags = nodocs ? TC_IMPORT_FLAGS_NODOCS : 0;
      job->sha256 = g_strdup (sha256);
      job->opts.expected_sha256 = job->sha256;
      job->opts.mirror = c->opts->mirror;
      job->opts.mirror_data = c->opts->mirror_data;
      struct stat st;
      job->size = stat (job->path, &st) == 0 ? st.st_size : 0;
      /* The distribution's filesystem package owns /dev, /proc, /srv ... which the ostree
       * layout provides itself. */
      if (g_str_equal (pool_id2str (c->pool, s->name), "filesystem"))
        job->opts.flags |= TC_IMPORT_FLAGS_SKIP_UNSUPPORTED;
      if (repo->gpgcheck)
        {
          const char *keyring = g_hash_table_lookup (keyrings, repo->id);
          if (!keyring)
            {
              char *dir = tc_pkgcache_keyring (c->opts->cachedir, repo->id, &repo, 1,
                                               cancellable, error);
              if (!dir)
                {
                  import_job_free (job);
                  return FALSE;
                }
              g_hash_table_insert (keyrings, repo->id, dir);
              keyring = dir;
            }
          job->opts.flags |= TC_IMPORT_FLAGS_REQUIRE_SIGNATURE;
          job->opts.keyring_dir = keyring;
        }
      job_of[i] = job;
      g_ptr_array_add (jobs, job);
    }

  if (!ostree_repo_prepare_transaction (c->opts->repo, NULL, cancellable, error))
    return FALSE;
  if (!import_parallel (c, jobs, cancellable, error))
    {
      ostree_repo_abort_transaction (c->opts->repo, NULL, NULL);
      return FALSE;
    }
  if (!ostree_repo_commit_transaction (c->opts->repo, NULL, cancellable, error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (job_of[i])
      {
        pkg_commits->pdata[i] = g_steal_pointer (&job_of[i]->commit);
        if (c->opts->imported)
          g_hash_table_add (c->opts->imported, g_strdup (pkg_commits->pdata[i]));
        if (c->opts->delete_downloads && job_of[i]->downloaded)
          (void)unlink (job_of[i]->path);
      }
  tc_output_message ("Packages: %u, %u from the cache, %u imported", n, c->cache_hits,
                     n - c->cache_hits);
  return TRUE;
}


gboolean
tc_pkgcache_fetch_and_import (const TcPkgcacheOptions *opts, Pool *pool, const Queue *installs,
                              GPtrArray *out_commits, GPtrArray *out_names, guint *out_cache_hits,
                              GCancellable *cancellable, GError **error)
{
  Fetch c = { .opts = opts, .pool = pool, .installs = installs };
  gboolean ok = fetch_and_import (&c, out_commits, out_names, cancellable, error);
  if (out_cache_hits)
    *out_cache_hits = c.cache_hits;
  return ok;
}

char *
tc_pkgcache_ref_for_solvable (Pool *pool, Solvable *s)
{
  return ref_for_solvable (pool, s);
}
