/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Compose postprocessing of the assembled root. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc-postprocess.h"
#include "tc-util.h"

/* Writes @contents to @rootfs/@path through a new file, never into an existing (possibly
 * hardlinked) one. */
static gboolean
replace_file (const char *rootfs, const char *path, const char *contents, mode_t mode,
              GError **error)
{
  g_autofree char *full = g_build_filename (rootfs, path, NULL);
  g_autofree char *dir = g_path_get_dirname (full);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", dir);
  (void)unlink (full);
  if (!g_file_set_contents_full (full, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, mode, error))
    return FALSE;
  return TRUE;
}

static gboolean
ensure_dir (const char *rootfs, const char *path, mode_t mode, GError **error)
{
  g_autofree char *full = g_build_filename (rootfs, path, NULL);
  if (g_file_test (full, G_FILE_TEST_IS_SYMLINK))
    return TRUE;
  if (mkdir (full, mode) < 0 && errno != EEXIST)
    return tc_throw_errno_prefix (error, "mkdir %s", path);
  if (chmod (full, mode) < 0)
    return tc_throw_errno_prefix (error, "chmod %s", path);
  return TRUE;
}

static gboolean
ensure_link (const char *rootfs, const char *path, const char *target, GError **error)
{
  g_autofree char *full = g_build_filename (rootfs, path, NULL);
  struct stat st;
  if (lstat (full, &st) == 0)
    {
      if (S_ISDIR (st.st_mode) && rmdir (full) == 0)
        ;
      else
        return TRUE; /* a package chose something else: keep it */
    }
  g_autofree char *dir = g_path_get_dirname (full);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return tc_throw_errno_prefix (error, "mkdir %s", dir);
  if (symlink (target, full) < 0)
    return tc_throw_errno_prefix (error, "symlink %s", path);
  return TRUE;
}


/* The root layout ostree-prepare-root and systemd expect. */
static gboolean
make_layout (const char *rootfs, TcTreefile *treefile, GError **error)
{
  static const char *dirs[] = { "usr", "usr/etc", "sysroot", "proc", "sys", "dev", "run", "boot",
                                "var" };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    if (!ensure_dir (rootfs, dirs[i], 0755, error))
      return FALSE;
  static const struct
  {
    const char *path, *target;
  } links[] = {
    { "ostree", "sysroot/ostree" }, { "home", "var/home" },   { "root", "var/roothome" },
    { "srv", "var/srv" },           { "mnt", "var/mnt" },     { "opt", "var/opt" },
    { "media", "run/media" },       { "bin", "usr/bin" },     { "sbin", "usr/sbin" },
    { "lib", "usr/lib" },           { "usr/local", "../var/usrlocal" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (links); i++)
    if (!ensure_link (rootfs, links[i].path, links[i].target, error))
      return FALSE;
  g_autofree char *lib64 = g_build_filename (rootfs, "usr/lib64", NULL);
  if (g_file_test (lib64, G_FILE_TEST_IS_DIR) && !ensure_link (rootfs, "lib64", "usr/lib64", error))
    return FALSE;
  if (tc_treefile_get_bool (treefile, "tmp-is-dir", FALSE))
    {
      if (!ensure_dir (rootfs, "tmp", 01777, error))
        return FALSE;
    }
  else if (!ensure_link (rootfs, "tmp", "sysroot/tmp", error))
    return FALSE;

  /* /var starts empty on every deployment; systemd-tmpfiles creates what is needed. */
  g_autofree char *var = g_build_filename (rootfs, "var", NULL);
  g_autoptr(GDir) d = g_dir_open (var, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *child = g_build_filename (var, name, NULL);
      if (!tc_rm_rf (child, FALSE, error))
        return FALSE;
    }
  return replace_file (rootfs, "usr/lib/tmpfiles.d/treectl-layout.conf",
                       "# Created by treectl compose: the directories the root links point to.\n"
                       "d /var/home 0755 root root -\n"
                       "d /var/roothome 0700 root root -\n"
                       "d /var/srv 0755 root root -\n"
                       "d /var/mnt 0755 root root -\n"
                       "d /var/opt 0755 root root -\n"
                       "d /var/usrlocal 0755 root root -\n"
                       "d /run/media 0755 root root -\n"
                       "L /var/lib/rpm - - - - ../../usr/lib/sysimage/rpm\n",
                       0644, error);
}

/* The kernel and initramfs belong in usr/lib/modules/$kver (boot-location: modules). A
 * kernel package that ships /boot/vmlinuz-$kver (imported as usr/lib/ostree-boot) is moved
 * there. */
static gboolean
place_kernel (const char *rootfs, GError **error)
{
  g_autofree char *modules = g_build_filename (rootfs, "usr/lib/modules", NULL);
  g_autofree char *ostree_boot = g_build_filename (rootfs, "usr/lib/ostree-boot", NULL);
  g_autoptr(GDir) d = g_dir_open (ostree_boot, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      const char *kver = NULL;
      const char *dest_name = NULL;
      if (g_str_has_prefix (name, "vmlinuz-"))
        {
          kver = name + strlen ("vmlinuz-");
          dest_name = "vmlinuz";
        }
      else if (g_str_has_prefix (name, "initramfs-") && g_str_has_suffix (name, ".img"))
        {
          g_autofree char *k = g_strndup (name + strlen ("initramfs-"),
                                          strlen (name) - strlen ("initramfs-") - strlen (".img"));
          g_autofree char *kdir = g_build_filename (modules, k, NULL);
          g_autofree char *src = g_build_filename (ostree_boot, name, NULL);
          g_autofree char *dest = g_build_filename (kdir, "initramfs.img", NULL);
          if (g_mkdir_with_parents (kdir, 0755) < 0 || rename (src, dest) < 0)
            return tc_throw_errno_prefix (error, "moving %s", name);
          continue;
        }
      if (!kver)
        continue;
      g_autofree char *kdir = g_build_filename (modules, kver, NULL);
      g_autofree char *src = g_build_filename (ostree_boot, name, NULL);
      g_autofree char *dest = g_build_filename (kdir, dest_name, NULL);
      if (g_mkdir_with_parents (kdir, 0755) < 0)
        return tc_throw_errno_prefix (error, "mkdir %s", kdir);
      if (!g_file_test (dest, G_FILE_TEST_EXISTS) && rename (src, dest) < 0)
        return tc_throw_errno_prefix (error, "moving %s", name);
    }
  return TRUE;
}

/* Replaces each occurrence of @from in @s by @to. */
static char *
replace_all (const char *s, const char *from, const char *to)
{
  g_autoptr(GString) out = g_string_new (s);
  if (*from)
    g_string_replace (out, from, to, 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ostree needs ID= and a quoted PRETTY_NAME= in usr/lib/os-release. mutate-os-release names
 * the string (usually the release version) that the compose version replaces in VERSION and
 * PRETTY_NAME, as rpm-ostree does; OSTREE_VERSION is added then. */
static gboolean
fix_os_release (const char *rootfs, TcTreefile *treefile, const char *version, GError **error)
{
  g_autofree char *lib_path = g_build_filename (rootfs, "usr/lib/os-release", NULL);
  g_autofree char *etc_path = g_build_filename (rootfs, "usr/etc/os-release", NULL);
  g_autofree char *contents = NULL;
  if (!g_file_get_contents (lib_path, &contents, NULL, NULL)
      && !g_file_get_contents (etc_path, &contents, NULL, NULL))
    return tc_throw (error, "the composed tree has no os-release (usr/lib/os-release): a package "
                            "must provide it");
  const char *mutate = tc_treefile_get_string (treefile, "mutate-os-release");
  if (mutate && !version)
    return tc_throw (error, "mutate-os-release needs a version (automatic-version-prefix or "
                            "--add-metadata-string version=...)");
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
  gboolean has_id = FALSE;
  g_autofree char *pretty = NULL;
  g_autofree char *name = NULL;
  GString *out = g_string_new ("");
  for (char **l = lines; *l; l++)
    {
      if (g_str_has_prefix (*l, "ID="))
        has_id = TRUE;
      if (g_str_has_prefix (*l, "NAME="))
        name = g_shell_unquote (*l + 5, NULL);
      if (g_str_has_prefix (*l, "PRETTY_NAME="))
        {
          pretty = g_shell_unquote (*l + strlen ("PRETTY_NAME="), NULL);
          continue;
        }
      if (mutate && g_str_has_prefix (*l, "OSTREE_VERSION="))
        continue;
      if (mutate && g_str_has_prefix (*l, "VERSION="))
        {
          g_autofree char *value = g_shell_unquote (*l + strlen ("VERSION="), NULL);
          g_autofree char *mutated = replace_all (value ? value : "", mutate, version);
          g_autofree char *quoted = g_shell_quote (mutated);
          g_string_append_printf (out, "VERSION=%s\n", quoted);
          continue;
        }
      if (**l)
        g_string_append_printf (out, "%s\n", *l);
    }
  if (!has_id)
    {
      g_string_free (out, TRUE);
      return tc_throw (error, "usr/lib/os-release in the composed tree has no ID= line");
    }
  if (!pretty)
    pretty = g_strdup (name ? name : "Linux");
  if (mutate)
    {
      g_autofree char *mutated = replace_all (pretty, mutate, version);
      g_free (pretty);
      pretty = g_steal_pointer (&mutated);
      g_autofree char *quoted = g_shell_quote (version);
      g_string_append_printf (out, "OSTREE_VERSION=%s\n", quoted);
    }
  g_autoptr(GString) escaped = g_string_new (pretty);
  g_string_replace (escaped, "\\", "\\\\", 0);
  g_string_replace (escaped, "\"", "\\\"", 0);
  g_string_append_printf (out, "PRETTY_NAME=\"%s\"\n", escaped->str);
  g_autofree char *text = g_string_free (out, FALSE);
  if (!replace_file (rootfs, "usr/lib/os-release", text, 0644, error))
    return FALSE;
  (void)unlink (etc_path);
  return symlink ("../lib/os-release", etc_path) == 0
         || tc_throw_errno_prefix (error, "symlink usr/etc/os-release");
}

/* /etc paths in treefile settings live in usr/etc in the tree. */
static char *
tree_path (const char *path)
{
  while (*path == '/')
    path++;
  if (g_str_has_prefix (path, "etc/") || g_str_equal (path, "etc"))
    return g_strconcat ("usr/", path, NULL);
  return g_strdup (path);
}

static gboolean
apply_add_files (const char *rootfs, TcTreefile *treefile, GError **error)
{
  JsonObject *root = tc_treefile_get_root (treefile);
  if (!json_object_has_member (root, "add-files"))
    return TRUE;
  JsonArray *list = json_object_get_array_member (root, "add-files");
  for (guint i = 0; list && i < json_array_get_length (list); i++)
    {
      JsonArray *pair = json_array_get_array_element (list, i);
      if (!pair || json_array_get_length (pair) != 2)
        return tc_throw (error, "add-files entry %u: expected [SOURCE, DEST]", i);
      const char *src = json_array_get_string_element (pair, 0);
      const char *dest = json_array_get_string_element (pair, 1);
      g_autofree char *src_path = g_path_is_absolute (src)
                                      ? g_strdup (src)
                                      : g_build_filename (tc_treefile_get_dir (treefile), src, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;
      if (!g_file_get_contents (src_path, &contents, &len, error))
        {
          g_prefix_error (error, "add-files: ");
          return FALSE;
        }
      struct stat st;
      mode_t mode = stat (src_path, &st) == 0 ? (st.st_mode & 07777) : 0644;
      g_autofree char *dest_rel = tree_path (dest);
      if (strstr (dest_rel, ".."))
        return tc_throw (error, "add-files: destination %s contains \"..\"", dest);
      g_autofree char *full = g_build_filename (rootfs, dest_rel, NULL);
      g_autofree char *dir = g_path_get_dirname (full);
      if (g_mkdir_with_parents (dir, 0755) < 0)
        return tc_throw_errno_prefix (error, "add-files: mkdir %s", dir);
      (void)unlink (full);
      if (!g_file_set_contents_full (full, contents, len, G_FILE_SET_CONTENTS_CONSISTENT, mode,
                                     error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
apply_remove_files (const char *rootfs, TcTreefile *treefile, GError **error)
{
  g_auto(GStrv) paths = tc_treefile_get_strv (treefile, "remove-files");
  for (char **p = paths; p && *p; p++)
    {
      g_autofree char *rel = tree_path (*p);
      if (strstr (rel, ".."))
        return tc_throw (error, "remove-files: %s contains \"..\"", *p);
      g_autofree char *full = g_build_filename (rootfs, rel, NULL);
      if (!tc_rm_rf (full, FALSE, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
apply_units (const char *rootfs, TcTreefile *treefile, GError **error)
{
  g_auto(GStrv) units = tc_treefile_get_strv (treefile, "units");
  for (char **u = units; u && *u; u++)
    {
      if (strchr (*u, '/'))
        return tc_throw (error, "units: \"%s\" is not a unit name", *u);
      g_autofree char *link = g_strdup_printf ("usr/etc/systemd/system/multi-user.target.wants/%s", *u);
      g_autofree char *target = g_strdup_printf ("/usr/lib/systemd/system/%s", *u);
      if (!ensure_link (rootfs, link, target, error))
        return FALSE;
    }
  const char *target = tc_treefile_get_string (treefile, "default-target");
  if (target)
    {
      g_autofree char *full = g_build_filename (rootfs, "usr/etc/systemd/system/default.target", NULL);
      (void)unlink (full);
      g_autofree char *dest = g_strdup_printf ("/usr/lib/systemd/system/%s", target);
      if (!ensure_link (rootfs, "usr/etc/systemd/system/default.target", dest, error))
        return FALSE;
    }
  if (tc_treefile_get_bool (treefile, "machineid-compat", TRUE))
    return replace_file (rootfs, "usr/etc/machine-id", "", 0444, error);
  g_autofree char *mid = g_build_filename (rootfs, "usr/etc/machine-id", NULL);
  (void)unlink (mid);
  return TRUE;
}

gboolean
tc_postprocess_layout (const char *rootfs, TcTreefile *treefile, GError **error)
{
  if (!make_layout (rootfs, treefile, error))
    {
      g_prefix_error (error, "preparing the root layout: ");
      return FALSE;
    }
  return TRUE;
}

/* Adds the lines of @previous whose first field is not in @current (a passwd or group
 * file), so names keep their ids from one compose to the next. */
static char *
merge_db (const char *current, const char *previous)
{
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GString *out = g_string_new (current ? current : "");
  if (out->len && out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
  g_auto(GStrv) cur = g_strsplit (current ? current : "", "\n", -1);
  for (char **l = cur; *l; l++)
    if (**l && strchr (*l, ':'))
      g_hash_table_add (names, g_strndup (*l, strchr (*l, ':') - *l));
  g_auto(GStrv) prev = g_strsplit (previous ? previous : "", "\n", -1);
  for (char **l = prev; *l; l++)
    {
      if (!**l || !strchr (*l, ':'))
        continue;
      g_autofree char *name = g_strndup (*l, strchr (*l, ':') - *l);
      if (!g_hash_table_contains (names, name))
        g_string_append_printf (out, "%s\n", *l);
    }
  return g_string_free (out, FALSE);
}

gboolean
tc_postprocess_prepare_passwd (const char *rootfs, const char *previous_passwd,
                               const char *previous_group, GError **error)
{
  static const struct
  {
    const char *path, *root_line;
  } dbs[] = { { "usr/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n" },
              { "usr/etc/group", "root:x:0:\n" } };
  const char *previous[] = { previous_passwd, previous_group };
  for (guint i = 0; i < G_N_ELEMENTS (dbs); i++)
    {
      g_autofree char *full = g_build_filename (rootfs, dbs[i].path, NULL);
      g_autofree char *current = NULL;
      if (!g_file_get_contents (full, &current, NULL, NULL))
        current = g_strdup (dbs[i].root_line);
      g_autofree char *merged = merge_db (current, previous[i]);
      if (!replace_file (rootfs, dbs[i].path, merged, 0644, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
tc_postprocess_rootfs (const char *rootfs, TcTreefile *treefile, const char *version,
                       GCancellable *cancellable, GError **error)
{
  if (!place_kernel (rootfs, error)
      || !fix_os_release (rootfs, treefile, version, error)
      || !apply_add_files (rootfs, treefile, error) || !apply_remove_files (rootfs, treefile, error)
      || !apply_units (rootfs, treefile, error))
    {
      g_prefix_error (error, "postprocessing: ");
      return FALSE;
    }
  return TRUE;
}
