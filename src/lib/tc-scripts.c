/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Scriptlets in bubblewrap. */
#include "config.h"

#include <errno.h>
#include <rpm/rpmds.h>
#include <rpm/rpmfi.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmtd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tc-output.h"
#include "tc-scripts.h"
#include "tc-util.h"

typedef struct
{
  const char *name;    /* as rpm calls it */
  rpmTagVal script;
  rpmTagVal prog;
} ScriptKind;

static const ScriptKind kinds[] = {
  { "%pre", RPMTAG_PREIN, RPMTAG_PREINPROG },
  { "%post", RPMTAG_POSTIN, RPMTAG_POSTINPROG },
  { "%posttrans", RPMTAG_POSTTRANS, RPMTAG_POSTTRANSPROG },
};

/* The interpreter argv of a scriptlet (default /bin/sh). */
static char **
script_interpreter (Header h, rpmTagVal prog_tag)
{
  struct rpmtd_s td;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  if (headerGet (h, prog_tag, &td, HEADERGET_MINMEM))
    {
      const char *s;
      while ((s = rpmtdNextString (&td)))
        g_ptr_array_add (argv, g_strdup (s));
      rpmtdFreeData (&td);
    }
  if (argv->len == 0)
    g_ptr_array_add (argv, g_strdup ("/bin/sh"));
  g_ptr_array_add (argv, NULL);
  return (char **)g_ptr_array_free (g_steal_pointer (&argv), FALSE);
}

/* Where scripts see /usr: a rofiles-fuse --copyup view of the tree's usr, so a write to a
 * file shared with the package cache lands in a fresh copy instead; without FUSE, /usr is
 * read-only. */
typedef struct
{
  char *usr;       /* directory to bind at /usr */
  gboolean writable;
  char *mountpoint; /* set when rofiles-fuse is mounted there */
} UsrView;

static void
usr_view_close (UsrView *view)
{
  if (view->mountpoint)
    {
      if (umount2 (view->mountpoint, MNT_DETACH) < 0)
        g_warning ("unmounting %s: %s", view->mountpoint, g_strerror (errno));
      (void)g_rmdir (view->mountpoint);
    }
  g_clear_pointer (&view->mountpoint, g_free);
  g_clear_pointer (&view->usr, g_free);
}

static gboolean
usr_view_open (const char *rootfs, UsrView *view, GError **error)
{
  g_autofree char *usr = g_build_filename (rootfs, "usr", NULL);
  g_autofree char *mnt = g_strconcat (rootfs, ".usr-view", NULL);
  if (g_mkdir (mnt, 0755) < 0 && errno != EEXIST)
    return tc_throw_errno_prefix (error, "mkdir %s", mnt);
  const char *argv[] = { "rofiles-fuse", "--copyup", usr, mnt, NULL };
  int status = -1;
  g_autoptr(GError) local_error = NULL;
  if (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &status, &local_error)
      && g_spawn_check_wait_status (status, NULL))
    {
      view->usr = g_strdup (mnt);
      view->mountpoint = g_steal_pointer (&mnt);
      view->writable = TRUE;
      return TRUE;
    }
  (void)g_rmdir (mnt);
  tc_output_message ("rofiles-fuse is not usable here (%s); scripts see /usr read-only",
                     local_error ? local_error->message : "mount failed");
  view->usr = g_steal_pointer (&usr);
  view->writable = FALSE;
  return TRUE;
}

/* Runs @body with @interp (or, with no @body, @interp itself, as rpm runs "-p PROG" alone),
 * passing @arg1 and feeding @input (when not NULL) on stdin. */
static gboolean
run_one (const char *rootfs, UsrView *view, const char *what, const char *body, char **interp,
         const char *arg1, const char *input, GError **error)
{
  g_autofree char *scratch = g_dir_make_tmp ("treectl-script-XXXXXX", error);
  if (!scratch)
    return FALSE;
  g_autofree char *script_path = g_build_filename (scratch, "script", NULL);
  g_autofree char *var_dir = g_build_filename (scratch, "var", NULL);
  if (!g_file_set_contents (script_path, body ? body : "", -1, error)
      || g_mkdir (var_dir, 0755) < 0)
    return FALSE;
  g_autofree char *etc = g_build_filename (view->usr, "etc", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *fixed[] = { "bwrap", "--bind", rootfs, "/", view->writable ? "--bind" : "--ro-bind",
                          view->usr, "/usr", "--bind", etc, "/etc", "--bind", var_dir, "/var", "--dev", "/dev", "--proc",
                          "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run", "--ro-bind", script_path,
                          "/tmp/.treectl-script", "--unshare-net", "--unshare-pid",
                          "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--chdir", "/",
                          "--setenv", "PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "--setenv",
                          "SYSTEMD_OFFLINE", "1", "--setenv", "RPM_INSTALL_PREFIX", "/usr",
                          "--" };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (argv, (char *)fixed[i]);
  for (char **a = interp; *a; a++)
    g_ptr_array_add (argv, *a);
  if (body)
    g_ptr_array_add (argv, "/tmp/.treectl-script");
  g_ptr_array_add (argv, (char *)arg1);
  g_ptr_array_add (argv, NULL);

  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE
                           | (input ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_subprocess_launcher_unsetenv (launcher, "LD_PRELOAD");
  g_autoptr(GSubprocess) proc
      = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  g_autofree char *output = NULL;
  gboolean ok = proc && g_subprocess_communicate_utf8 (proc, input, NULL, &output, NULL, error);
  (void)unlink (script_path);
  (void)g_rmdir (var_dir);
  (void)g_rmdir (scratch);
  if (!ok)
    return FALSE;
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (output ? output : ""));
      return tc_throw (error, "%s failed (exit %d)%s%s", what,
                       g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc)
                                                         : -1,
                       *trimmed ? "; its output:\n" : " with no output", trimmed);
    }
  if (output && *g_strstrip (output))
    tc_output_message ("%s: %s", what, output);
  return TRUE;
}

/* A Lua scriptlet is refused (FALSE), or skipped (*@out_skip) when the package is listed in
 * @lua_skip_ok; any other interpreter runs. */
static gboolean
check_lua (Header h, const char *nevra, const char *kind, const char *interp,
           const char *const *lua_skip_ok, gboolean *out_skip, GError **error)
{
  *out_skip = FALSE;
  if (!g_str_equal (interp, "<lua>"))
    return TRUE;
  const char *name = headerGetString (h, RPMTAG_NAME);
  if (lua_skip_ok && g_strv_contains (lua_skip_ok, name))
    {
      tc_output_message ("Skipping the Lua %s scriptlet of %s", kind, nevra);
      *out_skip = TRUE;
      return TRUE;
    }
  return tc_throw (error, "%s: the %s scriptlet is written in Lua, which treectl does not run; "
                          "list the package as safe to skip if the tree works without it",
                   nevra, kind);
}

static gboolean
run_package_scripts (const char *rootfs, UsrView *view, GPtrArray *headers, GPtrArray *names,
                     const char *const *lua_skip_ok, GCancellable *cancellable, GError **error)
{
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint i = 0; i < headers->len; i++)
      {
        Header h = headers->pdata[i];
        const char *nevra = names->pdata[i];
        /* "-p PROG" without a body has only the interpreter tag. */
        if (!headerIsEntry (h, kinds[k].script) && !headerIsEntry (h, kinds[k].prog))
          continue;
        const char *body = headerGetString (h, kinds[k].script);
        if (g_cancellable_set_error_if_cancelled (cancellable, error))
          return FALSE;
        g_auto(GStrv) interp = script_interpreter (h, kinds[k].prog);
        gboolean skip;
        if (!check_lua (h, nevra, kinds[k].name, interp[0], lua_skip_ok, &skip, error))
          return FALSE;
        if (skip)
          continue;
        g_autofree char *what = g_strdup_printf ("the %s scriptlet of %s", kinds[k].name, nevra);
        /* $1: the number of instances after this install */
        if (!run_one (rootfs, view, what, body, interp, "1", NULL, error))
          return FALSE;
      }
  return TRUE;
}

/* The installed files of @h as rpm lists them, less %doc files with @nodocs (rpm records
 * those as not installed). */
static GPtrArray *
installed_files (Header h, gboolean nodocs)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  rpmfi fi = rpmfiNew (NULL, h, RPMTAG_BASENAMES, RPMFI_FLAGS_QUERY);
  while (fi && rpmfiNext (fi) >= 0)
    if (!(nodocs && (rpmfiFFlags (fi) & RPMFILE_DOC)))
      g_ptr_array_add (files, g_strdup (rpmfiFN (fi)));
  rpmfiFree (fi);
  return files;
}

typedef struct
{
  guint32 index;
  guint32 priority;
} TriggerOrder;

/* Higher priority first, then the order in the package, as rpm sorts them. */
static gint
compare_trigger (gconstpointer a, gconstpointer b)
{
  const TriggerOrder *x = a, *y = b;
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

/* The path prefixes of trigger @t, or NULL when it is not an install trigger (rpm looks at
 * the sense of its first prefix). */
static GPtrArray *
trigger_prefixes (rpmtd prefixes, rpmtd index, rpmtd senses, guint32 t)
{
  g_autoptr(GPtrArray) pfx = g_ptr_array_new ();
  gboolean is_in = FALSE;
  for (guint p = 0; rpmtdSetIndex (prefixes, p) >= 0; p++)
    {
      const guint32 *ti = rpmtdSetIndex (index, p) >= 0 ? rpmtdGetUint32 (index) : NULL;
      if (!ti || *ti != t)
        continue;
      const guint32 *sense = rpmtdSetIndex (senses, p) >= 0 ? rpmtdGetUint32 (senses) : NULL;
      if (pfx->len == 0)
        is_in = sense && (*sense & RPMSENSE_TRIGGERIN);
      g_ptr_array_add (pfx, (char *)rpmtdGetString (prefixes));
    }
  return is_in ? g_steal_pointer (&pfx) : NULL;
}

/* The files of @pkg_files (per package) under @prefixes, one per line: prefix by prefix,
 * package by package, as rpm walks its database. */
static GString *
matching_files (GPtrArray *pkg_files, GPtrArray *prefixes)
{
  GString *out = g_string_new (NULL);
  for (guint p = 0; p < prefixes->len; p++)
    for (guint j = 0; j < pkg_files->len; j++)
      {
        GPtrArray *files = pkg_files->pdata[j];
        for (guint f = 0; f < files->len; f++)
          if (g_str_has_prefix (files->pdata[f], prefixes->pdata[p]))
            g_string_append_printf (out, "%s\n", (char *)files->pdata[f]);
      }
  return out;
}

/* The %transfiletriggerin scriptlets of @h (package @nevra), by priority, each run when its
 * prefixes match any of @pkg_files. */
static gboolean
run_package_triggers (const char *rootfs, UsrView *view, Header h, const char *nevra,
                      GPtrArray *pkg_files, const char *const *lua_skip_ok,
                      GCancellable *cancellable, GError **error)
{
  struct rpmtd_s scripts, progs, prios, prefixes, index, senses;
  headerGet (h, RPMTAG_TRANSFILETRIGGERSCRIPTS, &scripts, HEADERGET_MINMEM);
  headerGet (h, RPMTAG_TRANSFILETRIGGERSCRIPTPROG, &progs, HEADERGET_MINMEM);
  headerGet (h, RPMTAG_TRANSFILETRIGGERPRIORITIES, &prios, HEADERGET_MINMEM);
  headerGet (h, RPMTAG_TRANSFILETRIGGERNAME, &prefixes, HEADERGET_MINMEM);
  headerGet (h, RPMTAG_TRANSFILETRIGGERINDEX, &index, HEADERGET_MINMEM);
  headerGet (h, RPMTAG_TRANSFILETRIGGERFLAGS, &senses, HEADERGET_MINMEM);
  guint n = rpmtdCount (&scripts);
  g_autoptr(GArray) order = g_array_sized_new (FALSE, FALSE, sizeof (TriggerOrder), n);
  for (guint t = 0; t < n; t++)
    {
      const guint32 *prio = rpmtdSetIndex (&prios, t) >= 0 ? rpmtdGetUint32 (&prios) : NULL;
      TriggerOrder o = { t, prio ? *prio : 0 };
      g_array_append_val (order, o);
    }
  g_array_sort (order, compare_trigger);
  g_autofree char *what = g_strdup_printf ("the %%transfiletriggerin scriptlet of %s", nevra);
  gboolean ok = TRUE;
  for (guint k = 0; ok && k < order->len; k++)
    {
      guint32 t = g_array_index (order, TriggerOrder, k).index;
      g_autoptr(GPtrArray) pfx = trigger_prefixes (&prefixes, &index, &senses, t);
      if (!pfx || rpmtdSetIndex (&scripts, t) < 0)
        continue;
      g_autoptr(GString) input = matching_files (pkg_files, pfx);
      if (input->len == 0)
        continue;
      const char *body = rpmtdGetString (&scripts);
      const char *prog = rpmtdSetIndex (&progs, t) >= 0 ? rpmtdGetString (&progs) : NULL;
      char *interp[] = { (char *)(prog && *prog ? prog : "/bin/sh"), NULL };
      gboolean skip = FALSE;
      ok = !g_cancellable_set_error_if_cancelled (cancellable, error)
           && check_lua (h, nevra, "%transfiletriggerin", interp[0], lua_skip_ok, &skip, error);
      /* rpm passes 0 as $1 to file triggers */
      if (ok && !skip)
        ok = run_one (rootfs, view, what, body && *body ? body : NULL, interp, "0", input->str,
                      error);
    }
  rpmtdFreeData (&scripts);
  rpmtdFreeData (&progs);
  rpmtdFreeData (&prios);
  rpmtdFreeData (&prefixes);
  rpmtdFreeData (&index);
  rpmtdFreeData (&senses);
  return ok;
}

/* Every package's %transfiletriggerin, once all %posttrans have run, as rpm runs them at the
 * end of a transaction that installs every package: package by package in install order, each
 * package's triggers by priority, a trigger only when a path prefix of it matches an installed
 * file of any package, and the matching files on its stdin, one per line. */
static gboolean
run_transfiletriggers (const char *rootfs, UsrView *view, GPtrArray *headers, GPtrArray *names,
                       const char *const *lua_skip_ok, gboolean nodocs, GCancellable *cancellable,
                       GError **error)
{
  g_autoptr(GPtrArray) pkg_files = NULL; /* loaded for the first package with triggers */
  for (guint i = 0; i < headers->len; i++)
    {
      if (!headerIsEntry (headers->pdata[i], RPMTAG_TRANSFILETRIGGERSCRIPTS))
        continue;
      if (!pkg_files)
        {
          pkg_files = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
          for (guint j = 0; j < headers->len; j++)
            g_ptr_array_add (pkg_files, installed_files (headers->pdata[j], nodocs));
        }
      if (!run_package_triggers (rootfs, view, headers->pdata[i], names->pdata[i], pkg_files,
                                 lua_skip_ok, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

/* bwrap makes mount points for /etc (bound to usr/etc) in the tree: an ostree commit must
 * not have both. */
static void
remove_mountpoints (const char *rootfs)
{
  g_autofree char *etc = g_build_filename (rootfs, "etc", NULL);
  g_autofree char *sysroot_tmp = g_build_filename (rootfs, "sysroot", "tmp", NULL);
  (void)rmdir (etc);
  (void)rmdir (sysroot_tmp);
}

/* With the default layout /tmp is a link to sysroot/tmp, which only exists on a host: give
 * the scripts' tmpfs somewhere to go (remove_mountpoints() takes it away again). */
static gboolean
prepare_mountpoints (const char *rootfs, GError **error)
{
  g_autofree char *tmp = g_build_filename (rootfs, "tmp", NULL);
  if (!g_file_test (tmp, G_FILE_TEST_IS_SYMLINK))
    return TRUE;
  g_autofree char *sysroot_tmp = g_build_filename (rootfs, "sysroot", "tmp", NULL);
  if (g_mkdir_with_parents (sysroot_tmp, 01777) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", sysroot_tmp);
  return TRUE;
}

gboolean
tc_scripts_any (GPtrArray *headers)
{
  for (guint i = 0; i < headers->len; i++)
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      if (headerIsEntry (headers->pdata[i], kinds[k].script)
          || headerIsEntry (headers->pdata[i], kinds[k].prog))
        return TRUE;
  return FALSE;
}

gboolean
tc_scripts_run (const char *rootfs, GPtrArray *headers, GPtrArray *names,
                const char *const *lua_skip_ok, TcScriptsFlags flags, GCancellable *cancellable,
                GError **error)
{
  UsrView view = { 0 };
  if (!prepare_mountpoints (rootfs, error) || !usr_view_open (rootfs, &view, error))
    return FALSE;
  gboolean ok = run_package_scripts (rootfs, &view, headers, names, lua_skip_ok, cancellable,
                                     error);
  if (ok && (flags & TC_SCRIPTS_FLAG_TRANSFILETRIGGERS))
    ok = run_transfiletriggers (rootfs, &view, headers, names, lua_skip_ok,
                                (flags & TC_SCRIPTS_FLAG_NODOCS) != 0, cancellable, error);
  /* Said, not silently dropped. */
  for (guint i = 0; ok && i < headers->len; i++)
    {
      if (headerIsEntry (headers->pdata[i], RPMTAG_FILETRIGGERSCRIPTS))
        tc_output_message ("Not running the %%filetriggerin scriptlets of %s (treectl runs "
                           "%%transfiletriggerin only)",
                           (char *)names->pdata[i]);
      if (!(flags & TC_SCRIPTS_FLAG_TRANSFILETRIGGERS)
          && headerIsEntry (headers->pdata[i], RPMTAG_TRANSFILETRIGGERSCRIPTS))
        tc_output_message ("Not running the %%transfiletriggerin scriptlets of %s here",
                           (char *)names->pdata[i]);
    }
  usr_view_close (&view);
  remove_mountpoints (rootfs);
  return ok;
}

gboolean
tc_scripts_run_postprocess (const char *rootfs, const char *const *scripts,
                            GCancellable *cancellable, GError **error)
{
  UsrView view = { 0 };
  if (!prepare_mountpoints (rootfs, error) || !usr_view_open (rootfs, &view, error))
    return FALSE;
  gboolean ok = TRUE;
  char *sh[] = { "/bin/sh", "-e", NULL };
  for (guint i = 0; ok && scripts && scripts[i]; i++)
    {
      g_autofree char *what = g_strdup_printf ("postprocess script %u", i + 1);
      ok = !g_cancellable_set_error_if_cancelled (cancellable, error)
           && run_one (rootfs, &view, what, scripts[i], sh, "1", NULL, error);
    }
  usr_view_close (&view);
  remove_mountpoints (rootfs);
  return ok;
}


gboolean
tc_scripts_unshare_etc (const char *rootfs, GError **error)
{
  g_autofree char *etc = g_build_filename (rootfs, "usr/etc", NULL);
  if (!g_file_test (etc, G_FILE_TEST_IS_DIR))
    return TRUE;
  return tc_break_hardlinks_below (etc, error);
}
