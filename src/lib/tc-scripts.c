/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Scriptlets in bubblewrap. */
#include "config.h"

#include <errno.h>
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

static gboolean
run_one (const char *rootfs, UsrView *view, const char *what, const char *body, char **interp,
         GError **error)
{
  g_autofree char *scratch = g_dir_make_tmp ("treectl-script-XXXXXX", error);
  if (!scratch)
    return FALSE;
  g_autofree char *script_path = g_build_filename (scratch, "script", NULL);
  g_autofree char *var_dir = g_build_filename (scratch, "var", NULL);
  if (!g_file_set_contents (script_path, body, -1, error) || g_mkdir (var_dir, 0755) < 0)
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
  g_ptr_array_add (argv, "/tmp/.treectl-script");
  g_ptr_array_add (argv, "1"); /* $1: number of instances after this install */
  g_ptr_array_add (argv, NULL);

  g_autoptr(GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_unsetenv (launcher, "LD_PRELOAD");
  g_autoptr(GSubprocess) proc
      = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  g_autofree char *output = NULL;
  gboolean ok = proc && g_subprocess_communicate_utf8 (proc, NULL, NULL, &output, NULL, error);
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

static gboolean
run_package_scripts (const char *rootfs, UsrView *view, GPtrArray *headers, GPtrArray *names,
                     const char *const *lua_skip_ok, GCancellable *cancellable, GError **error)
{
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint i = 0; i < headers->len; i++)
      {
        Header h = headers->pdata[i];
        const char *nevra = names->pdata[i];
        const char *body = headerGetString (h, kinds[k].script);
        if (!body)
          continue;
        if (g_cancellable_set_error_if_cancelled (cancellable, error))
          return FALSE;
        g_auto(GStrv) interp = script_interpreter (h, kinds[k].prog);
        if (g_str_equal (interp[0], "<lua>"))
          {
            const char *name = headerGetString (h, RPMTAG_NAME);
            if (lua_skip_ok && g_strv_contains (lua_skip_ok, name))
              {
                tc_output_message ("Skipping the Lua %s scriptlet of %s", kinds[k].name, nevra);
                continue;
              }
            return tc_throw (error, "%s: the %s scriptlet is written in Lua, which treectl does "
                                    "not run; list the package as safe to skip if the tree "
                                    "works without it",
                             nevra, kinds[k].name);
          }
        g_autofree char *what = g_strdup_printf ("the %s scriptlet of %s", kinds[k].name, nevra);
        if (!run_one (rootfs, view, what, body, interp, error))
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
      if (headerIsEntry (headers->pdata[i], kinds[k].script))
        return TRUE;
  return FALSE;
}

gboolean
tc_scripts_run (const char *rootfs, GPtrArray *headers, GPtrArray *names,
                const char *const *lua_skip_ok, GCancellable *cancellable, GError **error)
{
  UsrView view = { 0 };
  if (!prepare_mountpoints (rootfs, error) || !usr_view_open (rootfs, &view, error))
    return FALSE;
  gboolean ok = run_package_scripts (rootfs, &view, headers, names, lua_skip_ok, cancellable,
                                     error);
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
           && run_one (rootfs, &view, what, scripts[i], sh, error);
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
