/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl init: an empty directory becomes a sysroot with one deployment. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tc-init.h"
#include "tc-origin.h"
#include "tc-output.h"
#include "tc-pull.h"
#include "tc-sysroot.h"
#include "tc-upgrader.h"
#include "tc-util.h"

static gboolean
require_empty_dir (const char *path, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = g_dir_open (path, 0, &local_error);
  if (!dir)
    return tc_throw (error, "%s: %s", path, local_error->message);
  const char *name = g_dir_read_name (dir);
  if (name)
    return tc_throw (error, "%s is not empty (found \"%s\"); init needs an empty directory", path,
                     name);
  return TRUE;
}

/* The top-level layout "ostree admin init-fs" makes, so ostree-prepare-root finds what it
 * needs at boot. */
static gboolean
make_toplevel_dirs (int dfd, GError **error)
{
  static const struct
  {
    const char *name;
    mode_t mode;
  } dirs[] = { { "boot", 0755 }, { "dev", 0755 }, { "home", 0755 }, { "proc", 0755 },
               { "run", 0755 },  { "sys", 0755 }, { "tmp", 01777 }, { "root", 0700 } };
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      if (mkdirat (dfd, dirs[i].name, dirs[i].mode) < 0 && errno != EEXIST)
        return tc_throw_errno_prefix (error, "mkdir %s", dirs[i].name);
      if (fchmodat (dfd, dirs[i].name, dirs[i].mode, 0) < 0)
        return tc_throw_errno_prefix (error, "chmod %s", dirs[i].name);
    }
  return TRUE;
}

/* Everything after validation; on failure the caller empties the directory again. */
static gboolean
init_inner (const char *path, const TcInitOptions *opts, TcOrigin *origin, GVariant **out_result,
            GCancellable *cancellable, GError **error)
{
  tc_output_task_begin ("Creating sysroot in %s", path);
  int dfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return tc_throw_errno_prefix (error, "opening %s", path);
  gboolean dirs_ok = make_toplevel_dirs (dfd, error);
  close (dfd);
  if (!dirs_ok)
    return FALSE;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(OstreeSysroot) sysroot = ostree_sysroot_new (file);
  if (!ostree_sysroot_ensure_initialized (sysroot, cancellable, error))
    return FALSE;
  if (!ostree_sysroot_load (sysroot, cancellable, error))
    return FALSE;
  if (!ostree_sysroot_init_osname (sysroot, opts->osname, cancellable, error))
    return FALSE;
  OstreeRepo *repo = ostree_sysroot_repo (sysroot);
  /* No bootloader is installed in a fresh directory: write BLS entries only. */
  g_autoptr(GKeyFile) config = ostree_repo_copy_config (repo);
  g_key_file_set_string (config, "sysroot", "bootloader", "none");
  if (!ostree_repo_write_config (repo, config, error))
    return FALSE;
  tc_output_task_end ("done");

  g_auto(GVariantBuilder) remote_opts = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&remote_opts, "{sv}", "gpg-verify",
                         g_variant_new_boolean (!opts->no_gpg_verify));
  g_autoptr(GVariant) remote_opts_v = g_variant_ref_sink (g_variant_builder_end (&remote_opts));
  if (!ostree_repo_remote_change (repo, NULL, OSTREE_REPO_REMOTE_CHANGE_ADD, origin->remote,
                                  opts->url, remote_opts_v, cancellable, error))
    return FALSE;
  if (opts->gpg_key && g_bytes_get_size (opts->gpg_key) == 0)
    return tc_throw (error, "the GPG key file is empty");
  if (opts->gpg_key)
    {
      g_autoptr(GInputStream) in = g_memory_input_stream_new_from_bytes (opts->gpg_key);
      guint n_imported = 0;
      if (!ostree_repo_remote_gpg_import (repo, origin->remote, in, NULL, &n_imported, cancellable,
                                          error))
        {
          g_prefix_error (error, "importing the GPG key: ");
          return FALSE;
        }
      if (n_imported == 0)
        return tc_throw (error, "importing the GPG key: no key found in the given file");
      tc_output_message ("Imported %u GPG key(s) for remote \"%s\"", n_imported, origin->remote);
    }

  g_autofree char *checksum = NULL;
  if (!tc_pull (repo, origin->remote, origin->ref, NULL, TC_PULL_FLAGS_NONE, &checksum,
                cancellable, error))
    return FALSE;
  if (!tc_deploy_as_default (sysroot, opts->osname, checksum, origin, NULL, opts->kargs, NULL,
                             cancellable, error))
    return FALSE;
  g_autoptr(GVariant) commit = NULL;
  g_autofree char *version = NULL;
  if (ostree_repo_load_commit (repo, checksum, &commit, NULL, NULL))
    version = tc_commit_get_version (commit);
  g_autofree char *msg = g_strdup_printf ("Deployed %s (version %s) as stateroot \"%s\"", checksum,
                                          version ? version : "none", opts->osname);
  *out_result = tc_result_new (TRUE, checksum, version, msg);
  return TRUE;
}


gboolean
tc_init_sysroot (const char *path, const TcInitOptions *opts, GVariant **out_result,
                 GCancellable *cancellable, GError **error)
{
  g_autoptr(TcOrigin) origin = tc_origin_new_from_refspec (opts->refspec, error);
  if (!origin)
    return FALSE;
  if (!origin->remote)
    return tc_throw (error, "init needs REMOTE:REF, got \"%s\"", opts->refspec);
  if (!ostree_validate_remote_name (opts->osname, NULL) || opts->osname[0] == '\0')
    return tc_throw (error, "invalid stateroot name \"%s\"", opts->osname);
  if (!opts->url || !*opts->url)
    return tc_throw (error, "init needs --url");
  if (!g_str_has_prefix (opts->url, "http://") && !g_str_has_prefix (opts->url, "https://")
      && !g_str_has_prefix (opts->url, "file://"))
    return tc_throw (error, "--url %s: expected an http://, https:// or file:// URL", opts->url);
  if (!opts->gpg_key && !opts->no_gpg_verify)
    return tc_throw (error, "init needs --gpg-key FILE, or --no-gpg-verify to trust the "
                            "remote without signatures");
  if (!require_empty_dir (path, error))
    return FALSE;

  if (init_inner (path, opts, origin, out_result, cancellable, error))
    return TRUE;
  /* Best effort: leave the directory empty, as it was. */
  (void)tc_rm_rf (path, TRUE, NULL);
  return FALSE;
}
