/* SPDX-License-Identifier: LGPL-2.1-or-later
 * The compose pipeline, from treefile to commit. Each stage lives in its own file; this one
 * orders them and owns the repositories, the input hash and the commit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/solvable.h>

#include "tc-archive.h"
#include "tc-assembler.h"
#include "tc-compose.h"
#include "tc-depsolve.h"
#include "tc-fetch.h"
#include "tc-importer.h"
#include "tc-output.h"
#include "tc-pkgcache.h"
#include "tc-pkgdiff.h"
#include "tc-postprocess.h"
#include "tc-rpm-util.h"
#include "tc-rpmmd.h"
#include "tc-scripts.h"
#include "tc-sysroot.h"
#include "tc-upgrader.h"
#include "tc-treefile.h"
#include "tc-union.h"
#include "tc-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pool, pool_free)

/* Everything one compose run holds. */
typedef struct
{
  const TcComposeOptions *opts;
  TcTreefile *treefile;
  const char *ref;
  char *cachedir;
  gboolean cachedir_is_temporary;
  OstreeRepo *pkgcache; /* bare-user: package commits and the build commit */
  OstreeRepo *out_repo;
  Pool *pool;
  GPtrArray *repos; /* TcRepo */
  Queue installs;
  char *inputhash;
  char *previous_commit;
  guint cache_hits;
  struct PrePublish *prepublish; /* output repo writes started early, or NULL */
  TcArchiveStage *stage; /* an archive output repo: imported files, compressed by treectl */
  GMutex mirrored_lock;
  GHashTable *mirrored; /* file objects the import wrote to the output repo this run */
  GHashTable *imported; /* package commits imported (not taken from the cache) this run */
  GVariant *complete_previous; /* the previous commit, when the output repo has all of it */
} Compose;

static void
compose_clear (Compose *c)
{
  g_clear_pointer (&c->treefile, tc_treefile_free);
  g_clear_object (&c->pkgcache);
  g_clear_object (&c->out_repo);
  g_clear_pointer (&c->repos, g_ptr_array_unref);
  queue_free (&c->installs);
  g_clear_pointer (&c->pool, pool_free);
  g_free (c->inputhash);
  g_free (c->previous_commit);
  g_free (c->cachedir);
  g_clear_pointer (&c->mirrored, g_hash_table_unref);
  g_clear_pointer (&c->imported, g_hash_table_unref);
  g_clear_pointer (&c->complete_previous, g_variant_unref);
  g_clear_pointer (&c->stage, tc_archive_stage_free);
}

static OstreeRepo *
open_or_create_repo (const char *path, OstreeRepoMode mode, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(OstreeRepo) repo = ostree_repo_new (file);
  g_autofree char *config = g_build_filename (path, "config", NULL);
  if (!g_file_test (config, G_FILE_TEST_EXISTS))
    {
      if (g_mkdir_with_parents (path, 0755) < 0)
        return (tc_throw_errno_prefix (error, "mkdir %s", path), NULL);
      if (!ostree_repo_create (repo, mode, cancellable, error))
        return NULL;
    }
  else if (!ostree_repo_open (repo, cancellable, error))
    return NULL;
  return g_steal_pointer (&repo);
}

#define UNSYNCED_MARKER "treectl-unsynced"

/* The package cache is a cache: it is written without an fsync per object (most of a
 * compose's kernel time), and synced once at the end. A marker file says writes may not
 * have reached the disk yet; finding it means a compose stopped before its final sync (a
 * crash), so the cache may hold damaged objects and is started afresh. */
static gboolean
open_pkgcache (Compose *c, const char *path, GCancellable *cancellable, GError **error)
{
  g_autofree char *marker = g_build_filename (c->cachedir, UNSYNCED_MARKER, NULL);
  if (g_file_test (marker, G_FILE_TEST_EXISTS))
    {
      tc_output_message ("The package cache %s was being written when a compose stopped; "
                         "starting it afresh",
                         path);
      if (!tc_rm_rf (path, FALSE, error))
        return FALSE;
    }
  c->pkgcache = open_or_create_repo (path, OSTREE_REPO_MODE_BARE_USER, cancellable, error);
  if (!c->pkgcache)
    return FALSE;
  ostree_repo_set_disable_fsync (c->pkgcache, TRUE);
  return g_file_set_contents (marker, "", 0, error);
}

/* Flushes the package cache to disk and drops the marker. */
static void
sync_pkgcache (Compose *c)
{
  if (!c->pkgcache)
    return;
  (void)syncfs (ostree_repo_get_dfd (c->pkgcache));
  g_autofree char *marker = g_build_filename (c->cachedir, UNSYNCED_MARKER, NULL);
  (void)unlink (marker);
}

/* The treefile's "repos" are ids of sections in the .repo files next to it. */
static gboolean
load_repos (Compose *c, GCancellable *cancellable, GError **error)
{
  g_auto(GStrv) wanted = tc_treefile_get_strv (c->treefile, "repos");
  if (!wanted || !wanted[0])
    return tc_throw (error, "the treefile names no repos");
  const char *dir = tc_treefile_get_dir (c->treefile);
  const char *releasever = tc_treefile_get_string (c->treefile, "releasever");
  g_autoptr(GPtrArray) available = tc_repo_dir_load (dir, c->opts->basearch, releasever, error);
  if (!available)
    return FALSE;
  c->pool = tc_rpmmd_pool_new (c->opts->basearch, error);
  if (!c->pool)
    return FALSE;
  c->repos = g_ptr_array_new_with_free_func ((GDestroyNotify)tc_repo_free);
  for (char **id = wanted; *id; id++)
    {
      TcRepo *found = NULL;
      for (guint i = 0; i < available->len && !found; i++)
        if (g_str_equal (((TcRepo *)available->pdata[i])->id, *id))
          found = g_ptr_array_steal_index (available, i);
      if (!found)
        return tc_throw (error, "repo \"%s\" is not defined by any .repo file in %s", *id, dir);
      g_ptr_array_add (c->repos, found);
    }
  return tc_rpmmd_load_repos (c->pool, c->repos, c->cachedir, cancellable, error);
}

static gboolean
depsolve (Compose *c, GError **error)
{
  g_auto(GStrv) packages = tc_treefile_get_strv (c->treefile, "packages");
  g_auto(GStrv) excludes = tc_treefile_get_strv (c->treefile, "exclude-packages");
  if (!packages || !packages[0])
    return tc_throw (error, "the treefile lists no packages");
  TcDepsolveRequest req = { .packages = (const char *const *)packages,
                            .exclude_packages = (const char *const *)excludes,
                            .recommends = tc_treefile_get_bool (c->treefile, "recommends", TRUE) };
  tc_output_task_begin ("Resolving dependencies");
  if (!tc_depsolve (c->pool, &req, &c->installs, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("%d packages", c->installs.count);
  return TRUE;
}

static void
checksum_file_into (GChecksum *sum, const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_checksum_update (sum, (const guchar *)path, strlen (path) + 1);
  if (g_file_get_contents (path, &contents, &len, NULL))
    g_checksum_update (sum, (const guchar *)contents, len);
}

/* sha256 over the flattened treefile, the files it names and every resolved package. */
static void
compute_inputhash (Compose *c)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *)"treectl-inputhash-1\n", -1);
  g_autofree char *json = tc_treefile_to_json (c->treefile, FALSE);
  g_checksum_update (sum, (const guchar *)json, -1);
  g_autoptr(GPtrArray) externals = tc_treefile_get_external_files (c->treefile);
  for (guint i = 0; externals && i < externals->len; i++)
    checksum_file_into (sum, externals->pdata[i]);
  for (int i = 0; i < c->installs.count; i++)
    {
      Id p = c->installs.elements[i];
      Solvable *s = pool_id2solvable (c->pool, p);
      Id type = 0;
      const char *chk = solvable_lookup_checksum (s, SOLVABLE_CHECKSUM, &type);
      g_autofree char *line = g_strdup_printf ("%s %s %s\n", pool_solvable2str (c->pool, s),
                                               chk ? chk : "-", s->repo->name);
      g_checksum_update (sum, (const guchar *)line, -1);
    }
  c->inputhash = g_strdup (g_checksum_get_string (sum));
}

static gboolean
previous_inputhash_matches (Compose *c, GError **error)
{
  if (!ostree_repo_resolve_rev (c->out_repo, c->ref, TRUE, &c->previous_commit, error))
    return FALSE;
  if (!c->previous_commit)
    return FALSE;
  g_autoptr(GVariant) commit = NULL;
  if (!ostree_repo_load_commit (c->out_repo, c->previous_commit, &commit, NULL, NULL))
    return FALSE;
  g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
  const char *prev = NULL;
  return g_variant_lookup (md, "treectl.inputhash", "&s", &prev)
         && g_str_equal (prev, c->inputhash);
}

/* "22" -> 22, 22.1, 22.2 ... following the previous commit's version, as rpm-ostree's
 * automatic-version-prefix. */
static char *
next_version (Compose *c)
{
  for (char **kv = c->opts->add_metadata_strings; kv && *kv; kv++)
    if (g_str_has_prefix (*kv, "version="))
      return g_strdup (*kv + strlen ("version="));
  const char *prefix_template = tc_treefile_get_string (c->treefile, "automatic-version-prefix");
  if (!prefix_template)
    return NULL;
  const char *suffix = tc_treefile_get_string (c->treefile, "automatic-version-suffix");
  if (!suffix)
    suffix = ".";
  g_autofree char *prefix = NULL;
  const char *date = strstr (prefix_template, "<date:");
  if (date)
    {
      const char *end = strchr (date, '>');
      g_autofree char *fmt = end ? g_strndup (date + 6, end - date - 6) : g_strdup ("%Y%m%d");
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *formatted = g_date_time_format (now, fmt);
      prefix = g_strdup_printf ("%.*s%s%s", (int)(date - prefix_template), prefix_template,
                                formatted ? formatted : "", end ? end + 1 : "");
    }
  else
    prefix = g_strdup (prefix_template);
  g_autofree char *previous = NULL;
  if (c->previous_commit)
    {
      g_autoptr(GVariant) commit = NULL;
      if (ostree_repo_load_commit (c->out_repo, c->previous_commit, &commit, NULL, NULL))
        previous = tc_commit_get_version (commit);
    }
  if (!previous || !g_str_has_prefix (previous, prefix))
    return g_steal_pointer (&prefix);
  const char *rest = previous + strlen (prefix);
  if (*rest == '\0')
    return g_strdup_printf ("%s%s1", prefix, suffix);
  if (g_str_has_prefix (rest, suffix))
    {
      guint64 n = g_ascii_strtoull (rest + strlen (suffix), NULL, 10);
      return g_strdup_printf ("%s%s%" G_GUINT64_FORMAT, prefix, suffix, n + 1);
    }
  return g_steal_pointer (&prefix);
}

static GVariant *
build_metadata (Compose *c, const char *version, GPtrArray *pkg_commits, GError **error)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  JsonObject *root = tc_treefile_get_root (c->treefile);
  if (json_object_has_member (root, "add-commit-metadata"))
    {
      JsonObject *extra = json_object_get_object_member (root, "add-commit-metadata");
      GList *members = extra ? json_object_get_members (extra) : NULL;
      for (GList *l = members; l; l = l->next)
        {
          JsonNode *node = json_object_get_member (extra, l->data);
          GVariant *v = json_gvariant_deserialize (node, NULL, NULL);
          if (v)
            g_variant_builder_add (&b, "{sv}", (const char *)l->data, v);
        }
      g_list_free (members);
    }
  for (char **kv = c->opts->add_metadata_strings; kv && *kv; kv++)
    {
      const char *eq = strchr (*kv, '=');
      if (!eq || eq == *kv)
        return (tc_throw (error, "--add-metadata-string %s: expected KEY=VALUE", *kv), NULL);
      g_autofree char *key = g_strndup (*kv, eq - *kv);
      if (!g_str_equal (key, "version"))
        g_variant_builder_add (&b, "{sv}", key, g_variant_new_string (eq + 1));
    }
  if (version)
    g_variant_builder_add (&b, "{sv}", OSTREE_COMMIT_META_KEY_VERSION,
                           g_variant_new_string (version));
  g_variant_builder_add (&b, "{sv}", "treectl.inputhash", g_variant_new_string (c->inputhash));
  g_auto(GVariantBuilder) pkgs = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(sssss)"));
  for (int i = 0; i < c->installs.count; i++)
    {
      Solvable *s = pool_id2solvable (c->pool, c->installs.elements[i]);
      g_autofree char *epoch = NULL, *ver = NULL, *rel = NULL;
      tc_split_evr (pool_id2str (c->pool, s->evr), &epoch, &ver, &rel);
      g_variant_builder_add (&pkgs, "(sssss)", pool_id2str (c->pool, s->name),
                             epoch ? epoch : "0", ver, rel, pool_id2str (c->pool, s->arch));
    }
  g_variant_builder_add (&b, "{sv}", "treectl.rpmdb.pkglist", g_variant_builder_end (&pkgs));
  /* The package cache commit of each entry of the list, in the same order: which exact
   * package file each is, for the next compose's rpmdb. */
  g_variant_builder_add (&b, "{sv}", "treectl.package-commits",
                         g_variant_new_strv ((const char *const *)pkg_commits->pdata,
                                             pkg_commits->len));
  g_autofree char *title = g_strdup_printf ("treefile %s", c->opts->treefile);
  g_variant_builder_add (&b, "{sv}", OSTREE_COMMIT_META_KEY_SOURCE_TITLE,
                         g_variant_new_string (title));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}


typedef struct
{
  OstreeRepo *from;
  OstreeRepo *to;
  GMutex lock;
  GError *error;
  GCancellable *cancellable;
} CopyRun;

static void
copy_object (gpointer data, gpointer user_data)
{
  GVariant *name = data;
  CopyRun *run = user_data;
  const char *checksum;
  OstreeObjectType type;
  ostree_object_name_deserialize (name, &checksum, &type);
  g_autoptr(GError) local_error = NULL;
  if (!g_cancellable_is_cancelled (run->cancellable))
    {
      ostree_repo_import_object_from_with_trust (run->to, run->from, type, checksum, TRUE,
                                                 run->cancellable, &local_error);
    }
  if (local_error)
    {
      g_mutex_lock (&run->lock);
      if (!run->error)
        {
          run->error = g_steal_pointer (&local_error);
          g_cancellable_cancel (run->cancellable);
        }
      g_mutex_unlock (&run->lock);
    }
}

/* Publishing starts early: once the packages are imported, their files are copied into the
 * output repo (compressing each for an archive repo is most of the publish time) by a
 * background thread while assembly, scriptlets, postprocessing and the commit run on the
 * main thread. All of it happens in one output repo transaction, committed only with the
 * final commit and aborted on any failure, so a failed compose leaves the output repo as
 * it was. */
typedef struct PrePublish
{
  CopyRun run;
  GThreadPool *pool;   /* copies of cached packages' files */
  GThreadPool *writer; /* MirrorJob: imported files, from memory */
  GMutex budget_lock;
  GCond budget_cond;
  guint64 in_flight;    /* bytes handed to the writer and not written yet */
  gboolean import_done; /* the import ended (or failed): the writers no longer hold back */
  GThread *flusher;     /* writes back what the import wrote, while the root is assembled */
} PrePublish;

/* Bytes the import may get ahead of the writers. */
#define MIRROR_BUDGET (56 * 1024 * 1024)
/* While the import runs, the writers start a file only when more than this is waiting.
 * The import keeps every core busy by itself; what the writers leave for the end (40 to
 * 56 MiB, under a CPU-second of compression on the benchmark's machine) then runs on
 * the cores that assembly, the scriptlets and the rpmdb, all in one thread, leave idle, and
 * is done about when they are. The import never waits for a writer that holds back: a file
 * it hands over is at most TC_IMPORTER_INMEMORY_MAX bytes. */
#define MIRROR_HOLD (40 * 1024 * 1024)
G_STATIC_ASSERT (MIRROR_HOLD + TC_IMPORTER_INMEMORY_MAX <= MIRROR_BUDGET);

typedef struct
{
  char *checksum;
  GFileInfo *info;
  GVariant *xattrs;
  GBytes *data;
} MirrorJob;

/* One package commit: copies its file objects the output repo lacks. */
static void
prepublish_package (gpointer data, gpointer user_data)
{
  g_autofree char *pkg_commit = data;
  CopyRun *run = user_data;
  g_autoptr(GHashTable) reachable = NULL;
  g_autoptr(GError) local_error = NULL;
  if (g_cancellable_is_cancelled (run->cancellable))
    return;
  if (!ostree_repo_traverse_commit (run->from, pkg_commit, 0, &reachable, run->cancellable,
                                    &local_error))
    reachable = NULL;
  GHashTableIter it;
  gpointer key;
  if (reachable)
    {
      g_hash_table_iter_init (&it, reachable);
      while (g_hash_table_iter_next (&it, &key, NULL))
        {
          const char *checksum;
          OstreeObjectType type;
          ostree_object_name_deserialize (key, &checksum, &type);
          if (type == OSTREE_OBJECT_TYPE_FILE)
            copy_object (key, run);
        }
    }
  if (local_error)
    {
      g_mutex_lock (&run->lock);
      if (!run->error)
        run->error = g_steal_pointer (&local_error);
      g_mutex_unlock (&run->lock);
    }
}

static void
note_mirrored (Compose *c, const char *checksum)
{
  g_mutex_lock (&c->mirrored_lock);
  g_hash_table_add (c->mirrored, g_strdup (checksum));
  g_mutex_unlock (&c->mirrored_lock);
}

static void
run_set_error (CopyRun *run, GError *local_error)
{
  g_mutex_lock (&run->lock);
  if (!run->error)
    {
      run->error = local_error;
      g_cancellable_cancel (run->cancellable);
    }
  else
    g_error_free (local_error);
  g_mutex_unlock (&run->lock);
}

static void
mirror_job_run (gpointer data, gpointer user_data)
{
  MirrorJob *job = data;
  Compose *c = user_data;
  PrePublish *pp = c->prepublish;
  GError *local_error = NULL;
  g_mutex_lock (&pp->budget_lock);
  while (!pp->import_done && pp->in_flight < MIRROR_HOLD)
    g_cond_wait (&pp->budget_cond, &pp->budget_lock);
  g_mutex_unlock (&pp->budget_lock);
  if (!g_cancellable_is_cancelled (pp->run.cancellable))
    {
      gboolean ok;
      if (c->stage)
        {
          /* (libostree's own write checks this itself) */
          gboolean have = FALSE;
          ok = ostree_repo_has_object (c->out_repo, OSTREE_OBJECT_TYPE_FILE, job->checksum, &have,
                                       NULL, &local_error)
               && (have
                   || tc_archive_stage_write (c->stage, job->checksum, job->info, job->xattrs,
                                              job->data, &local_error));
        }
      else
        ok = tc_importer_write_trusted (c->out_repo, job->checksum, job->info, job->xattrs,
                                        job->data, pp->run.cancellable, &local_error);
      if (ok)
        note_mirrored (c, job->checksum);
      else
        run_set_error (&pp->run, local_error);
    }
  g_mutex_lock (&pp->budget_lock);
  pp->in_flight -= g_bytes_get_size (job->data);
  g_cond_broadcast (&pp->budget_cond);
  g_mutex_unlock (&pp->budget_lock);
  g_free (job->checksum);
  g_object_unref (job->info);
  g_clear_pointer (&job->xattrs, g_variant_unref);
  g_bytes_unref (job->data);
  g_free (job);
}

/* The importer's mirror function: files in memory are written to the output repo by the
 * writer threads, the others (read back from the package cache) right away. */
static gboolean
mirror_file (OstreeRepo *from, const char *checksum, GFileInfo *info, GVariant *xattrs,
             GBytes *data, gpointer user_data, GCancellable *cancellable, GError **error)
{
  Compose *c = user_data;
  PrePublish *pp = c->prepublish;
  if (data == NULL)
    {
      gboolean ok = ostree_repo_import_object_from_with_trust (
          c->out_repo, from, OSTREE_OBJECT_TYPE_FILE, checksum, TRUE, cancellable, error);
      if (ok)
        note_mirrored (c, checksum);
      return ok;
    }
  gsize size = g_bytes_get_size (data);
  g_mutex_lock (&pp->budget_lock);
  while (pp->in_flight > 0 && pp->in_flight + size > MIRROR_BUDGET)
    g_cond_wait (&pp->budget_cond, &pp->budget_lock);
  if (pp->in_flight < MIRROR_HOLD && pp->in_flight + size >= MIRROR_HOLD)
    g_cond_broadcast (&pp->budget_cond);
  pp->in_flight += size;
  g_mutex_unlock (&pp->budget_lock);
  MirrorJob *job = g_new0 (MirrorJob, 1);
  job->checksum = g_strdup (checksum);
  job->info = g_object_ref (info);
  job->xattrs = xattrs ? g_variant_ref (xattrs) : NULL;
  job->data = g_bytes_ref (data);
  g_thread_pool_push (pp->writer, job, NULL);
  return TRUE;
}

/* Opens the output repo transaction that the whole compose writes in, before packages are
 * imported: the import writes each new package file there too, while it has the bytes. */
static gboolean
prepublish_begin (Compose *c, GCancellable *cancellable, GError **error)
{
  if (ostree_repo_get_mode (c->out_repo) == OSTREE_REPO_MODE_ARCHIVE)
    {
      c->stage = tc_archive_stage_new (c->out_repo, error);
      if (!c->stage)
        return FALSE;
    }
  if (!ostree_repo_prepare_transaction (c->out_repo, NULL, cancellable, error))
    return FALSE;
  PrePublish *pp = g_new0 (PrePublish, 1);
  pp->run = (CopyRun){ .from = c->pkgcache, .to = c->out_repo,
                       .cancellable = g_cancellable_new () };
  g_mutex_init (&pp->run.lock);
  g_mutex_init (&pp->budget_lock);
  g_cond_init (&pp->budget_cond);
  c->prepublish = pp;
  pp->writer = g_thread_pool_new (mirror_job_run, c, CLAMP (g_get_num_processors (), 1, 4), FALSE,
                                  error);
  return pp->writer != NULL;
}

static gpointer
flush_thread (gpointer data)
{
  (void)syncfs (GPOINTER_TO_INT (data));
  return NULL;
}

/* Once the import has ended (or failed), the writers no longer hold back, and leave one core
 * to the compose's own thread. With @flush, the disk starts writing back what the import
 * wrote (a gigabyte for a few hundred packages) now, beside assembly, rather than in the
 * syncfs() that commits the transaction (for a compose of this size, neither the
 * kernel's dirty limits nor its 30-second expiry would start it sooner). */
static void
prepublish_import_done (Compose *c, gboolean flush)
{
  PrePublish *pp = c->prepublish;
  if (!pp || pp->import_done)
    return;
  if (flush)
    pp->flusher = g_thread_new ("treectl-flush", flush_thread,
                                GINT_TO_POINTER (ostree_repo_get_dfd (c->out_repo)));
  g_thread_pool_set_max_threads (pp->writer, MAX (g_get_num_processors () - 1, 1), NULL);
  g_mutex_lock (&pp->budget_lock);
  pp->import_done = TRUE;
  g_cond_broadcast (&pp->budget_cond);
  g_mutex_unlock (&pp->budget_lock);
}

/* Copies, in the background, the files of the packages that came from the cache (the
 * imported ones are in the output repo already). Not needed when the output repo has the
 * previous commit: copy_commit() then finds what changed by comparing the two trees. */
static gboolean
prepublish_cached (Compose *c, GPtrArray *pkg_commits, gboolean have_previous, GError **error)
{
  PrePublish *pp = c->prepublish;
  if (have_previous)
    return TRUE;
  /* One core is left to the main thread's work; copy_commit() adds the rest at the end. */
  guint n = CLAMP (g_get_num_processors (), 2, 5) - 1;
  pp->pool = g_thread_pool_new (prepublish_package, &pp->run, n, FALSE, error);
  if (!pp->pool)
    return FALSE;
  for (guint i = 0; i < pkg_commits->len; i++)
    if (!g_hash_table_contains (c->imported, pkg_commits->pdata[i]))
      g_thread_pool_push (pp->pool, g_strdup (pkg_commits->pdata[i]), NULL);
  return TRUE;
}

/* Waits for the early copies; with @abort, stops them and drops the transaction. Returns
 * FALSE with the first copy error. */
static gboolean
prepublish_finish (Compose *c, gboolean abort, GError **error)
{
  PrePublish *pp = c->prepublish;
  if (!pp)
    return TRUE;
  if (abort)
    g_cancellable_cancel (pp->run.cancellable);
  prepublish_import_done (c, FALSE);
  if (!abort && pp->pool)
    g_thread_pool_set_max_threads (pp->pool, CLAMP (g_get_num_processors (), 1, 4), NULL);
  if (pp->writer)
    g_thread_pool_free (pp->writer, FALSE, TRUE);
  if (pp->pool)
    g_thread_pool_free (pp->pool, FALSE, TRUE);
  if (pp->flusher)
    g_thread_join (pp->flusher);
  GError *copy_error = pp->run.error;
  g_mutex_clear (&pp->run.lock);
  g_mutex_clear (&pp->budget_lock);
  g_cond_clear (&pp->budget_cond);
  g_object_unref (pp->run.cancellable);
  g_free (pp);
  c->prepublish = NULL;
  if (abort || copy_error)
    ostree_repo_abort_transaction (c->out_repo, NULL, NULL);
  if (copy_error)
    {
      if (!abort)
        g_propagate_prefixed_error (error, copy_error, "copying to %s: ", c->opts->repo);
      else
        g_error_free (copy_error);
      return FALSE;
    }
  return TRUE;
}

/* The previous commit of the ref, when the output repo holds all of it (not a partial
 * pull): everything it reaches is there, so only what differs from it needs checking. */
static GVariant *
complete_previous_commit (Compose *c)
{
  if (!c->previous_commit)
    return NULL;
  g_autoptr(GVariant) commit = NULL;
  OstreeRepoCommitState state = 0;
  if (!ostree_repo_load_commit (c->out_repo, c->previous_commit, &commit, &state, NULL)
      || (state & OSTREE_REPO_COMMIT_STATE_PARTIAL))
    return NULL;
  return g_steal_pointer (&commit);
}

static GVariant *
object_name (const char *checksum, OstreeObjectType type)
{
  return g_variant_ref_sink (ostree_object_name_serialize (checksum, type));
}

/* Appends the object to @out unless @seen has it; returns whether it was new. */
static gboolean
add_once (GHashTable *seen, GPtrArray *out, const char *checksum, OstreeObjectType type)
{
  GVariant *name = object_name (checksum, type);
  if (g_hash_table_contains (seen, name))
    {
      g_variant_unref (name);
      return FALSE;
    }
  g_hash_table_add (seen, name);
  g_ptr_array_add (out, name);
  return TRUE;
}

/* Adds to @out (object names) @tree, @meta and what they reach, except what equals the entry
 * at the same place in the previous commit (@prev_tree, @prev_meta; NULL when there is none)
 * and what @seen holds already. The cost follows the change, not the size of the tree. */
static gboolean
collect_changed (Compose *c, const char *tree, const char *meta, const char *prev_tree,
                 const char *prev_meta, GHashTable *seen, GPtrArray *out, GError **error)
{
  if (!prev_meta || !g_str_equal (meta, prev_meta))
    add_once (seen, out, meta, OSTREE_OBJECT_TYPE_DIR_META);
  if ((prev_tree && g_str_equal (tree, prev_tree))
      || !add_once (seen, out, tree, OSTREE_OBJECT_TYPE_DIR_TREE))
    return TRUE;

  g_autoptr(GHashTable) files = NULL, dirs = NULL, prev_files = NULL, prev_dirs = NULL;
  if (!tc_dirtree_load (c->pkgcache, tree, &files, &dirs, error)
      || (prev_tree
          && !tc_dirtree_load (c->out_repo, prev_tree, &prev_files, &prev_dirs, error)))
    return FALSE;
  GHashTableIter it;
  gpointer name, value;
  g_hash_table_iter_init (&it, files);
  while (g_hash_table_iter_next (&it, &name, &value))
    {
      const char *before = prev_files ? g_hash_table_lookup (prev_files, name) : NULL;
      if (!before || !g_str_equal (before, value))
        add_once (seen, out, value, OSTREE_OBJECT_TYPE_FILE);
    }
  g_hash_table_iter_init (&it, dirs);
  while (g_hash_table_iter_next (&it, &name, &value))
    {
      char **now = value;
      char **before = prev_dirs ? g_hash_table_lookup (prev_dirs, name) : NULL;
      if (!collect_changed (c, now[0], now[1], before ? before[0] : NULL,
                            before ? before[1] : NULL, seen, out, error))
        return FALSE;
    }
  return TRUE;
}

/* Copies @commit and the objects it reaches that the output repo lacks, content objects on
 * every core (an archive repo compresses each one), then its signature, then the ref. */
static gboolean
copy_commit (Compose *c, const char *commit, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (ostree_hash_object_name, g_variant_equal,
                                                      (GDestroyNotify)g_variant_unref, NULL);
  g_autoptr(GPtrArray) content = g_ptr_array_new ();
  g_autoptr(GPtrArray) metadata = g_ptr_array_new ();
  g_autoptr(GVariant) new_commit = NULL;
  g_autofree char *prev_tree = NULL, *prev_meta = NULL;
  if (c->complete_previous)
    tc_commit_get_root (c->complete_previous, &prev_tree, &prev_meta);
  gboolean ok = ostree_repo_load_commit (c->pkgcache, commit, &new_commit, NULL, error);
  if (ok)
    {
      g_autofree char *tree = NULL, *meta = NULL;
      tc_commit_get_root (new_commit, &tree, &meta);
      ok = collect_changed (c, tree, meta, prev_tree, prev_meta, seen, candidates, error);
    }
  /* The transaction is open already: package files were written to it during the import,
   * and the last of them while the tree above was walked. */
  if (!ok)
    {
      (void)prepublish_finish (c, TRUE, NULL);
      return FALSE;
    }
  if (!prepublish_finish (c, FALSE, error))
    return FALSE;
  /* Whether the output repo has each one already is checked by the copy itself
   * (ostree_repo_import_object_from_with_trust()), on every core. */
  for (guint i = 0; i < candidates->len; i++)
    {
      const char *checksum;
      OstreeObjectType type;
      ostree_object_name_deserialize (candidates->pdata[i], &checksum, &type);
      if (type == OSTREE_OBJECT_TYPE_FILE && g_hash_table_contains (c->mirrored, checksum))
        continue;
      g_ptr_array_add (type == OSTREE_OBJECT_TYPE_FILE ? content : metadata, candidates->pdata[i]);
    }
  g_autoptr(GCancellable) stop = g_cancellable_new ();
  CopyRun run = { .from = c->pkgcache, .to = c->out_repo, .cancellable = stop };
  g_mutex_init (&run.lock);
  GThreadPool *pool = g_thread_pool_new (copy_object, &run, CLAMP (g_get_num_processors (), 1, 4),
                                         TRUE, error);
  if (!pool)
    {
      g_mutex_clear (&run.lock);
      ostree_repo_abort_transaction (c->out_repo, NULL, NULL);
      return FALSE;
    }
  for (guint i = 0; i < content->len; i++)
    g_thread_pool_push (pool, content->pdata[i], NULL);
  for (guint i = 0; i < metadata->len; i++)
    g_thread_pool_push (pool, metadata->pdata[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  g_mutex_clear (&run.lock);
  /* The commit object goes last: a commit is only visible once all it needs is there. */
  if (!run.error)
    {
      g_autoptr(GVariant) commit_name = object_name (commit, OSTREE_OBJECT_TYPE_COMMIT);
      copy_object (commit_name, &run);
    }
  if (run.error)
    {
      ostree_repo_abort_transaction (c->out_repo, NULL, NULL);
      g_propagate_error (error, run.error);
      return FALSE;
    }
  g_autoptr(GVariant) detached = NULL;
  if (!ostree_repo_read_commit_detached_metadata (c->pkgcache, commit, &detached, cancellable,
                                                  error)
      || (detached
          && !ostree_repo_write_commit_detached_metadata (c->out_repo, commit, detached,
                                                          cancellable, error)))
    {
      ostree_repo_abort_transaction (c->out_repo, NULL, NULL);
      return FALSE;
    }
  /* The staged files go into objects/ first: the commit object libostree renames into
   * place next must only appear once everything it reaches is there. */
  if (c->stage && !tc_archive_stage_publish (c->stage, cancellable, error))
    {
      ostree_repo_abort_transaction (c->out_repo, NULL, NULL);
      return FALSE;
    }
  ostree_repo_transaction_set_ref (c->out_repo, NULL, c->ref, commit);
  return ostree_repo_commit_transaction (c->out_repo, NULL, cancellable, error);
}

static gboolean
publish (Compose *c, const char *commit, GCancellable *cancellable, GError **error)
{
  const char *keyid = c->opts->gpg_sign ? c->opts->gpg_sign
                                        : tc_treefile_get_string (c->treefile, "gpg-key");
  if (keyid)
    {
      tc_output_task_begin ("Signing %.12s with %s", commit, keyid);
      if (!ostree_repo_sign_commit (c->pkgcache, commit, keyid, c->opts->gpg_homedir, cancellable,
                                    error))
        {
          tc_output_task_end ("failed");
          g_prefix_error (error, "signing with key %s: ", keyid);
          return FALSE;
        }
      tc_output_task_end ("done");
    }
  /* Copy the commit (with its signature) into the output repo, moving the ref last. */
  tc_output_task_begin ("Writing %.12s to %s", commit, c->opts->repo);
  if (!copy_commit (c, commit, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");
  if (c->opts->static_delta && c->previous_commit)
    {
      tc_output_task_begin ("Generating a static delta from %.12s", c->previous_commit);
      g_auto(GVariantBuilder) params = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
      if (!ostree_repo_static_delta_generate (c->out_repo, OSTREE_STATIC_DELTA_GENERATE_OPT_MAJOR,
                                              c->previous_commit, commit, NULL,
                                              g_variant_builder_end (&params), cancellable, error))
        {
          tc_output_task_end ("failed");
          return FALSE;
        }
      tc_output_task_end ("done");
    }
  if (!ostree_repo_regenerate_summary (c->out_repo, NULL, cancellable, error))
    return FALSE;
  if (keyid)
    {
      const char *keys[] = { keyid, NULL };
      if (!ostree_repo_add_gpg_signature_summary (c->out_repo, keys, c->opts->gpg_homedir,
                                                  cancellable, error))
        {
          g_prefix_error (error, "signing the summary: ");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
write_outputs (Compose *c, GVariant *result, GPtrArray *pkg_names, GError **error)
{
  const char *commit = NULL;
  g_variant_lookup (result, "commit", "&s", &commit);
  if (c->opts->write_commitid_to && commit
      && !g_file_set_contents (c->opts->write_commitid_to, commit, -1, error))
    return FALSE;
  if (!c->opts->write_composejson_to)
    return TRUE;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ref");
  json_builder_add_string_value (b, c->ref);
  GVariantIter iter;
  const char *key;
  GVariant *value;
  g_variant_iter_init (&iter, result);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      json_builder_set_member_name (b, key);
      json_builder_add_value (b, json_gvariant_serialize (value));
    }
  json_builder_set_member_name (b, "package-list");
  json_builder_begin_array (b);
  for (guint i = 0; pkg_names && i < pkg_names->len; i++)
    json_builder_add_string_value (b, pkg_names->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_file (gen, c->opts->write_composejson_to, error);
}


static void
header_free (gpointer h)
{
  headerFree (h);
}

/* The previous commit's usr/etc/NAME, to keep user and group ids stable. */
static char *
previous_file (Compose *c, const char *name)
{
  if (!c->previous_commit)
    return NULL;
  g_autoptr(GFile) root = NULL;
  if (!ostree_repo_read_commit (c->out_repo, c->previous_commit, &root, NULL, NULL, NULL))
    return NULL;
  g_autofree char *rel = g_strconcat ("usr/etc/", name, NULL);
  g_autoptr(GFile) f = g_file_resolve_relative_path (root, rel);
  char *contents = NULL;
  if (!g_file_load_contents (f, NULL, &contents, NULL, NULL, NULL))
    return NULL;
  return contents;
}

static gboolean
run_scriptlets (Compose *c, const char *rootfs, GPtrArray *pkg_commits, GPtrArray *pkg_names,
                GCancellable *cancellable, GError **error)
{
  g_autofree char *prev_passwd = previous_file (c, "passwd");
  g_autofree char *prev_group = previous_file (c, "group");
  if (!tc_postprocess_layout (rootfs, c->treefile, error) || !tc_scripts_unshare_etc (rootfs, error)
      || !tc_postprocess_prepare_passwd (rootfs, prev_passwd, prev_group, error))
    return FALSE;
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func (header_free);
  for (guint i = 0; i < pkg_commits->len; i++)
    {
      Header h = tc_assembler_load_header (c->pkgcache, pkg_commits->pdata[i], error);
      if (!h)
        return FALSE;
      g_ptr_array_add (headers, h);
    }
  tc_output_task_begin ("Running scriptlets");
  TcScriptsFlags flags = TC_SCRIPTS_FLAG_TRANSFILETRIGGERS;
  if (!tc_treefile_get_bool (c->treefile, "documentation", TRUE))
    flags |= TC_SCRIPTS_FLAG_NODOCS;
  if (!tc_scripts_run (rootfs, headers, pkg_names, (const char *const *)c->opts->lua_skip_ok,
                       flags, cancellable, error))
    {
      tc_output_task_end ("failed");
      return FALSE;
    }
  tc_output_task_end ("done");
  return TRUE;
}

/* name -> id of a passwd or group file's text. */
static GHashTable *
parse_ids (const char *text)
{
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_auto(GStrv) f = g_strsplit (*l, ":", 4);
      if (g_strv_length (f) >= 3)
        g_hash_table_insert (ids, g_strdup (f[0]), g_strdup (f[2]));
    }
  return ids;
}

/* check-passwd / check-groups: users and groups must keep their ids (type previous, file or
 * data) so files on hosts keep their owners across updates. */
static gboolean
check_one_db (Compose *c, const char *rootfs, const char *key, const char *db, GError **error)
{
  JsonObject *root = tc_treefile_get_root (c->treefile);
  if (!json_object_has_member (root, key))
    return TRUE;
  JsonObject *spec = json_object_get_object_member (root, key);
  const char *type = spec ? json_object_get_string_member_with_default (spec, "type", "none")
                          : "none";
  g_autofree char *expected_text = NULL;
  if (g_str_equal (type, "none"))
    return TRUE;
  else if (g_str_equal (type, "previous"))
    expected_text = previous_file (c, db);
  else if (g_str_equal (type, "file"))
    {
      const char *filename = json_object_get_string_member_with_default (spec, "filename", NULL);
      if (!filename || !g_file_get_contents (filename, &expected_text, NULL, error))
        return tc_throw (error, "%s: cannot read its file %s", key, filename ? filename : "(none)");
    }
  else if (g_str_equal (type, "data"))
    {
      JsonObject *entries = json_object_get_object_member (spec, "entries");
      GString *s = g_string_new ("");
      GList *members = entries ? json_object_get_members (entries) : NULL;
      for (GList *l = members; l; l = l->next)
        {
          JsonNode *v = json_object_get_member (entries, l->data);
          gint64 id = JSON_NODE_HOLDS_ARRAY (v)
                          ? json_array_get_int_element (json_node_get_array (v), 0)
                          : json_node_get_int (v);
          g_string_append_printf (s, "%s:x:%" G_GINT64_FORMAT ":\n", (char *)l->data, id);
        }
      g_list_free (members);
      expected_text = g_string_free (s, FALSE);
    }
  else
    return tc_throw (error, "%s: unknown type \"%s\"", key, type);
  if (!expected_text)
    return TRUE; /* first compose: nothing to compare with */
  g_autofree char *path = g_build_filename (rootfs, "usr/etc", db, NULL);
  g_autofree char *current_text = NULL;
  if (!g_file_get_contents (path, &current_text, NULL, error))
    return FALSE;
  g_autoptr(GHashTable) expected = parse_ids (expected_text);
  g_autoptr(GHashTable) current = parse_ids (current_text);
  GHashTableIter it;
  gpointer name, id;
  g_hash_table_iter_init (&it, expected);
  while (g_hash_table_iter_next (&it, &name, &id))
    {
      const char *now = g_hash_table_lookup (current, name);
      if (now && !g_str_equal (now, id))
        return tc_throw (error, "%s: %s \"%s\" changed id from %s to %s", key,
                         g_str_equal (db, "passwd") ? "user" : "group", (char *)name,
                         (char *)id, now);
    }
  return TRUE;
}

static gboolean
check_ids (Compose *c, const char *rootfs, GError **error)
{
  return check_one_db (c, rootfs, "check-passwd", "passwd", error)
         && check_one_db (c, rootfs, "check-groups", "group", error);
}

/* The treefile's postprocess scripts (included files' first), then postprocess-script. */
static gboolean
run_postprocess_scripts (Compose *c, const char *rootfs, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr(GPtrArray) scripts = g_ptr_array_new_with_free_func (g_free);
  JsonObject *root = tc_treefile_get_root (c->treefile);
  JsonArray *inline_scripts = json_object_has_member (root, "postprocess")
                                  ? json_object_get_array_member (root, "postprocess")
                                  : NULL;
  for (guint i = 0; inline_scripts && i < json_array_get_length (inline_scripts); i++)
    g_ptr_array_add (scripts, g_strdup (json_array_get_string_element (inline_scripts, i)));
  const char *script_file = tc_treefile_get_string (c->treefile, "postprocess-script");
  if (script_file)
    {
      g_autofree char *path = g_path_is_absolute (script_file)
                                  ? g_strdup (script_file)
                                  : g_build_filename (tc_treefile_get_dir (c->treefile),
                                                      script_file, NULL);
      char *contents = NULL;
      if (!g_file_get_contents (path, &contents, NULL, error))
        {
          g_prefix_error (error, "postprocess-script: ");
          return FALSE;
        }
      g_ptr_array_add (scripts, contents);
    }
  if (scripts->len == 0)
    return TRUE;
  g_ptr_array_add (scripts, NULL);
  return tc_scripts_run_postprocess (rootfs, (const char *const *)scripts->pdata, cancellable,
                                     error);
}

/* The package trees merged as a union checkout would lay them out (same conflicts, the
 * first package's metadata for a directory several ship). */
static gboolean
merge_packages (Compose *c, GPtrArray *pkg_commits, GPtrArray *pkg_names,
                OstreeMutableTree *mtree, GError **error)
{
  g_autoptr(GVariant) first = NULL;
  if (pkg_commits->len == 0
      || !ostree_repo_load_commit (c->pkgcache, pkg_commits->pdata[0], &first, NULL, error))
    return pkg_commits->len == 0 ? tc_throw (error, "no packages to assemble") : FALSE;
  g_autofree char *meta = NULL;
  tc_commit_get_root (first, NULL, &meta);
  ostree_mutable_tree_set_metadata_checksum (mtree, meta);
  return tc_assembler_merge_into_mtree (c->pkgcache, mtree, pkg_commits, pkg_names, error);
}

/* For an rpmdb that follows the previous compose's: copies that rpmdb into @rootfs and says
 * which packages to erase from it (NEVRAs) and which to add (package commits). FALSE when
 * there is no such rpmdb to start from (no previous commit in the package cache, or
 * something in the tree made a database already), or when most packages changed. */
static gboolean
start_from_previous_rpmdb (Compose *c, GPtrArray *pkg_commits, const char *rootfs,
                           GPtrArray *erase, GPtrArray *add, GCancellable *cancellable)
{
  g_autoptr(GVariant) commit = NULL;
  if (!c->previous_commit
      || !ostree_repo_load_commit (c->pkgcache, c->previous_commit, &commit, NULL, NULL))
    return FALSE;
  g_autoptr(GVariant) md = g_variant_get_child_value (commit, 0);
  g_autoptr(GVariant) pkglist
      = g_variant_lookup_value (md, "treectl.rpmdb.pkglist", G_VARIANT_TYPE ("a(sssss)"));
  g_autoptr(GVariant) commits_v
      = g_variant_lookup_value (md, "treectl.package-commits", G_VARIANT_TYPE_STRING_ARRAY);
  if (!pkglist || !commits_v || g_variant_n_children (pkglist) != g_variant_n_children (commits_v))
    return FALSE;
  /* Packages are the same when their package commits are: a rebuild that kept its NEVRA is
   * another package. */
  g_autoptr(GHashTable) now = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < pkg_commits->len; i++)
    g_hash_table_add (now, pkg_commits->pdata[i]);
  g_autoptr(GHashTable) before = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree const char **prev_commits = g_variant_get_strv (commits_v, NULL);
  for (gsize i = 0; prev_commits[i]; i++)
    {
      g_hash_table_add (before, (char *)prev_commits[i]);
      if (g_hash_table_contains (now, prev_commits[i]))
        continue;
      const char *name, *epoch, *version, *release, *arch;
      g_variant_get_child (pkglist, i, "(&s&s&s&s&s)", &name, &epoch, &version, &release, &arch);
      g_autoptr(TcPackage) pkg = tc_package_new (name, epoch, version, release, arch);
      g_ptr_array_add (erase, tc_package_get_nevra (pkg));
    }
  for (guint i = 0; i < pkg_commits->len; i++)
    if (!g_hash_table_contains (before, pkg_commits->pdata[i]))
      g_ptr_array_add (add, pkg_commits->pdata[i]);
  if ((add->len + erase->len) * 2 > pkg_commits->len)
    return FALSE;
  g_autofree char *dbdir = g_build_filename (rootfs, "usr/lib/sysimage/rpm", NULL);
  g_autofree char *parent = g_path_get_dirname (dbdir);
  if (g_file_test (dbdir, G_FILE_TEST_EXISTS) || g_mkdir_with_parents (parent, 0755) < 0)
    return FALSE;
  /* A copy: librpm writes to it. */
  OstreeRepoCheckoutAtOptions opts = { 0 };
  opts.mode = OSTREE_REPO_CHECKOUT_MODE_USER;
  opts.force_copy = TRUE;
  opts.subpath = "/usr/lib/sysimage/rpm";
  if (!ostree_repo_checkout_at (c->pkgcache, &opts, AT_FDCWD, dbdir, c->previous_commit,
                                cancellable, NULL))
    {
      (void)tc_rm_rf (dbdir, FALSE, NULL);
      return FALSE;
    }
  return TRUE;
}

/* librpm writes a database slowly (its indexes cover every file of every package): when
 * most packages stayed, the previous compose's rpmdb is changed by what changed instead. */
static gboolean
write_rpmdb (Compose *c, GPtrArray *pkg_commits, const char *rootfs, GCancellable *cancellable,
             GError **error)
{
  g_autoptr(GPtrArray) erase = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) add = g_ptr_array_new ();
  if (!start_from_previous_rpmdb (c, pkg_commits, rootfs, erase, add, cancellable))
    return tc_assembler_write_rpmdb (c->pkgcache, pkg_commits, NULL, rootfs, cancellable, error);
  g_ptr_array_add (erase, NULL);
  return tc_assembler_write_rpmdb (c->pkgcache, add, (const char *const *)erase->pdata, rootfs,
                                   cancellable, error);
}

static gpointer
remove_root_thread (gpointer data)
{
  g_autofree char *rootfs = data;
  (void)tc_rm_rf (rootfs, FALSE, NULL);
  return NULL;
}

static gboolean
run_compose (Compose *c, GVariant **out_result, GCancellable *cancellable, GError **error)
{
  const TcComposeOptions *opts = c->opts;
  c->treefile = tc_treefile_load (opts->treefile, opts->basearch, error);
  if (!c->treefile || !tc_treefile_check_implemented (c->treefile, error))
    return FALSE;
  c->ref = tc_treefile_get_string (c->treefile, "ref");
  if (!c->ref)
    return tc_throw (error, "%s: the treefile has no ref", opts->treefile);
  if (!ostree_validate_rev (c->ref, error))
    return FALSE;

  g_autofree char *out_config = g_build_filename (opts->repo, "config", NULL);
  if (!g_file_test (out_config, G_FILE_TEST_EXISTS))
    return tc_throw (error, "--repo %s: not an ostree repository (create it with 'ostree "
                            "init --mode=archive --repo=%s')",
                     opts->repo, opts->repo);
  g_autoptr(GFile) out_file = g_file_new_for_path (opts->repo);
  c->out_repo = ostree_repo_new (out_file);
  if (!ostree_repo_open (c->out_repo, cancellable, error))
    return FALSE;

  if (opts->cachedir)
    c->cachedir = g_canonicalize_filename (opts->cachedir, NULL);
  else
    {
      c->cachedir = g_dir_make_tmp ("treectl-compose-XXXXXX", error);
      if (!c->cachedir)
        return FALSE;
      c->cachedir_is_temporary = TRUE;
    }
  g_autofree char *pkgcache_path = g_build_filename (c->cachedir, "repo", NULL);
  if (!open_pkgcache (c, pkgcache_path, cancellable, error))
    return FALSE;

  if (!load_repos (c, cancellable, error) || !depsolve (c, error))
    return FALSE;
  compute_inputhash (c);
  g_autoptr(GError) local_error = NULL;
  gboolean unchanged = previous_inputhash_matches (c, &local_error);
  if (local_error)
    return (g_propagate_error (error, g_steal_pointer (&local_error)), FALSE);
  if (opts->dry_run)
    {
      for (int i = 0; i < c->installs.count; i++)
        tc_output_message ("  %s", pool_solvid2str (c->pool, c->installs.elements[i]));
      g_autofree char *msg = g_strdup_printf ("Dry run: %d packages would be installed",
                                              c->installs.count);
      *out_result = tc_result_new (FALSE, NULL, NULL, msg);
      return TRUE;
    }
  if (unchanged && !opts->force_nocache)
    {
      *out_result = tc_result_new (FALSE, c->previous_commit, NULL,
                                   "No changes since the previous commit (same input hash); "
                                   "use --force-nocache to compose anyway");
      return TRUE;
    }

  g_autoptr(GPtrArray) pkg_commits = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) pkg_names = g_ptr_array_new_with_free_func (g_free);
  c->mirrored = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->imported = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  TcPkgcacheOptions fetch_opts = {
    .repo = c->pkgcache,
    .cachedir = c->cachedir,
    .nodocs = !tc_treefile_get_bool (c->treefile, "documentation", TRUE),
    .mirror = mirror_file,
    .mirror_data = c,
    .imported = c->imported,
  };
  c->complete_previous = complete_previous_commit (c);
  if (!prepublish_begin (c, cancellable, error))
    return FALSE;
  gboolean imported = tc_pkgcache_fetch_and_import (&fetch_opts, c->pool, &c->installs,
                                                    pkg_commits, pkg_names, &c->cache_hits,
                                                    cancellable, error);
  prepublish_import_done (c, imported);
  if (!imported || !prepublish_cached (c, pkg_commits, c->complete_previous != NULL, error))
    return FALSE;

  g_autofree char *tmpdir = g_build_filename (c->cachedir, "tmp", NULL);
  if (g_mkdir_with_parents (tmpdir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", tmpdir);
  g_autofree char *rootfs_template = g_build_filename (tmpdir, "rootfs-XXXXXX", NULL);
  if (!g_mkdtemp (rootfs_template))
    return tc_throw_errno_prefix (error, "mkdtemp in %s", tmpdir);
  const char *rootfs = rootfs_template;
  /* The checkout must not exist yet: ostree creates it. */
  (void)rmdir (rootfs);
  g_autoptr(OstreeRepoDevInoCache) devino = ostree_repo_devino_cache_new ();
  g_autoptr(OstreeMutableTree) union_tree = ostree_mutable_tree_new ();
  g_autoptr(TcUnionRoot) overlay = NULL;
  g_autofree char *why = NULL;
  tc_output_task_begin ("Assembling %u packages", pkg_commits->len);
  gboolean ok = merge_packages (c, pkg_commits, pkg_names, union_tree, error);
  if (ok)
    {
      overlay = tc_union_root_new (c->pkgcache, c->cachedir, union_tree, rootfs, &why,
                                   cancellable, error);
      ok = overlay != NULL || why != NULL;
    }
  if (ok && !overlay)
    ok = tc_assembler_checkout (c->pkgcache, pkg_commits, pkg_names, AT_FDCWD, rootfs, devino,
                                cancellable, error);
  tc_output_task_end (ok ? (overlay ? "done (overlay)" : "done") : "failed");
  if (why)
    tc_output_message ("Assembled a full checkout: %s", why);
  g_autofree char *version = ok ? next_version (c) : NULL;
  g_autoptr(GVariant) metadata = NULL;
  g_autofree char *commit = NULL;
  OstreeRepoTransactionStats stats = { 0 };
  if (ok)
    ok = run_scriptlets (c, rootfs, pkg_commits, pkg_names, cancellable, error);
  if (ok)
    {
      tc_output_task_begin ("Postprocessing and writing the rpmdb");
      JsonObject *tf_root = tc_treefile_get_root (c->treefile);
      JsonArray *rfp = json_object_has_member (tf_root, "remove-from-packages")
                           ? json_object_get_array_member (tf_root, "remove-from-packages")
                           : NULL;
      ok = tc_assembler_apply_ownership (c->pkgcache, pkg_commits, rootfs, error)
           && tc_assembler_remove_from_packages (c->pkgcache, pkg_commits, pkg_names, rfp, rootfs,
                                                 error)
           && tc_postprocess_rootfs (rootfs, c->treefile, version, cancellable, error)
           && run_postprocess_scripts (c, rootfs, cancellable, error)
           && check_ids (c, rootfs, error)
           && write_rpmdb (c, pkg_commits, rootfs, cancellable, error);
      tc_output_task_end (ok ? "done" : "failed");
    }
  if (ok)
    ok = (metadata = build_metadata (c, version, pkg_commits, error)) != NULL;
  if (ok)
    {
      tc_output_task_begin ("Committing");
      g_autofree char *subject = g_strdup_printf ("%s%s%s", c->ref, version ? " " : "",
                                                  version ? version : "");
      if (overlay)
        {
          /* The union tree plus what the upper layer holds. */
          ok = ostree_repo_prepare_transaction (c->pkgcache, NULL, cancellable, error);
          if (ok && !tc_union_root_apply (overlay, c->pkgcache, union_tree, cancellable, error))
            {
              ostree_repo_abort_transaction (c->pkgcache, NULL, NULL);
              ok = FALSE;
            }
          ok = ok && tc_assembler_finish_commit (c->pkgcache, union_tree, c->previous_commit,
                                                 subject, metadata, c->ref, &commit, &stats,
                                                 cancellable, error);
        }
      else
        ok = tc_assembler_commit (c->pkgcache, rootfs, devino, c->previous_commit, subject,
                                  metadata, c->ref, &commit, &stats, cancellable, error);
      tc_output_task_end (ok ? "done" : "failed");
    }
  /* Unmounted before the root is removed: the lower layer is the cached checkout. */
  g_clear_pointer (&overlay, tc_union_root_free);
  /* Removing the root (tens of thousands of links) runs beside publishing. */
  GThread *remover = g_thread_new ("treectl-rm-root", remove_root_thread, g_strdup (rootfs));
  ok = ok && publish (c, commit, cancellable, error);
  g_thread_join (remover);
  if (!ok)
    return FALSE;

  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "changed", g_variant_new_boolean (TRUE));
  g_variant_builder_add (&b, "{sv}", "commit", g_variant_new_string (commit));
  if (version)
    g_variant_builder_add (&b, "{sv}", "version", g_variant_new_string (version));
  g_variant_builder_add (&b, "{sv}", "inputhash", g_variant_new_string (c->inputhash));
  g_variant_builder_add (&b, "{sv}", "packages", g_variant_new_uint32 (pkg_commits->len));
  g_variant_builder_add (&b, "{sv}", "cache-hits", g_variant_new_uint32 (c->cache_hits));
  g_variant_builder_add (&b, "{sv}", "objects-written",
                         g_variant_new_uint32 (stats.content_objects_written
                                               + stats.metadata_objects_written));
  g_variant_builder_add (&b, "{sv}", "devino-cache-hits",
                         g_variant_new_uint32 (stats.devino_cache_hits));
  g_variant_builder_add (&b, "{sv}", "bytes-written",
                         g_variant_new_uint64 (stats.content_bytes_written));
  g_autofree char *msg = g_strdup_printf ("Committed %s%s%s to %s", commit,
                                          version ? ", version " : "", version ? version : "",
                                          c->ref);
  g_variant_builder_add (&b, "{sv}", "message", g_variant_new_string (msg));
  g_autoptr(GVariant) result = g_variant_ref_sink (g_variant_builder_end (&b));
  if (!write_outputs (c, result, pkg_names, error))
    return FALSE;
  *out_result = g_steal_pointer (&result);
  return TRUE;
}

gboolean
tc_compose_tree (const TcComposeOptions *opts, GVariant **out_result, GCancellable *cancellable,
                 GError **error)
{
  Compose c = { .opts = opts };
  queue_init (&c.installs);
  g_mutex_init (&c.mirrored_lock);
  gboolean ok = run_compose (&c, out_result, cancellable, error);
  /* A compose that failed after publishing began leaves the output repo untouched. */
  (void)prepublish_finish (&c, TRUE, NULL);
  if (!c.cachedir_is_temporary)
    sync_pkgcache (&c);
  if (c.cachedir_is_temporary && c.cachedir)
    (void)tc_rm_rf (c.cachedir, FALSE, NULL);
  compose_clear (&c);
  g_mutex_clear (&c.mirrored_lock);
  return ok;
}
