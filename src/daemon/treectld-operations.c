/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Method handlers and transaction bodies. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "treectl.h"
#include "treectld-auth.h"
#include "treectld-operations.h"
#include "treectld-transaction.h"

/* The request a transaction carries: the method's arguments, read again in the worker. */
static void
get_request (TreectldTransaction *txn, const char **out_osname, GVariant **out_args)
{
  GVariant *params = treectld_transaction_get_params (txn);
  g_variant_get (params, "(&s@*)", out_osname, out_args);
}

static gboolean
lookup_bool (GVariant *options, const char *key)
{
  gboolean value = FALSE;
  g_variant_lookup (options, key, "b", &value);
  return value;
}

static gboolean
maybe_reboot (TreectldTransaction *txn, GVariant *options, GVariant *result, GError **error)
{
  gboolean changed = FALSE;
  g_variant_lookup (result, "changed", "b", &changed);
  if (!lookup_bool (options, "reboot") || !changed)
    return TRUE;
  TreectldDaemon *daemon = treectld_daemon_get ();
  if (!g_str_equal (daemon->sysroot_path, "/"))
    {
      tc_output_message ("Not rebooting: the sysroot %s is not the running system",
                         daemon->sysroot_path);
      return TRUE;
    }
  tc_output_message ("Rebooting");
  const char *argv[] = { "systemctl", "reboot", NULL };
  return g_spawn_async (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, error);
}

static gboolean
txn_upgrade (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
             GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  g_autoptr(GVariant) options = g_variant_get_child_value (args, 0);
  TcUpgradeFlags flags = 0;
  if (lookup_bool (options, "check"))
    flags |= TC_UPGRADE_FLAGS_CHECK_ONLY;
  if (lookup_bool (options, "allow-downgrade"))
    flags |= TC_UPGRADE_FLAGS_ALLOW_DOWNGRADE;
  if (!tc_upgrade (sysroot, osname, flags, out_result, cancellable, error))
    return FALSE;
  return (flags & TC_UPGRADE_FLAGS_CHECK_ONLY) || maybe_reboot (txn, options, *out_result, error);
}

static gboolean
txn_rollback (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
              GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  g_autoptr(GVariant) options = g_variant_get_child_value (args, 0);
  if (!tc_rollback (sysroot, osname, out_result, cancellable, error))
    return FALSE;
  return maybe_reboot (txn, options, *out_result, error);
}

static gboolean
txn_deploy (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
            GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  const char *revision;
  g_autoptr(GVariant) options = NULL;
  g_variant_get (args, "(&s@a{sv})", &revision, &options);
  if (!tc_deploy_revision (sysroot, osname, revision, out_result, cancellable, error))
    return FALSE;
  return maybe_reboot (txn, options, *out_result, error);
}

static gboolean
txn_rebase (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
            GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  const char *refspec;
  g_autoptr(GVariant) options = NULL;
  g_variant_get (args, "(&s@a{sv})", &refspec, &options);
  if (!tc_rebase (sysroot, osname, refspec, 0, out_result, cancellable, error))
    return FALSE;
  return maybe_reboot (txn, options, *out_result, error);
}

static gboolean
txn_pkg_change (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
                GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  g_autofree const char **install = NULL;
  g_autofree const char **uninstall = NULL;
  g_autoptr(GVariant) local = NULL;
  g_autoptr(GVariant) options = NULL;
  g_variant_get (args, "(^a&s^a&s@ah@a{sv})", &install, &uninstall, &local, &options);
  g_autofree const char **local_names = NULL;
  g_variant_lookup (options, "local-names", "^a&s", &local_names);
  /* The daemon reads each local file through its descriptor. */
  GUnixFDList *fd_list = treectld_transaction_get_fd_list (txn);
  gsize n_local = g_variant_n_children (local);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  gboolean ok = TRUE;
  for (gsize i = 0; ok && i < n_local; i++)
    {
      gint32 handle = 0;
      g_variant_get_child (local, i, "h", &handle);
      int fd = -1;
      if (!fd_list)
        ok = tc_throw (error, "local package %" G_GSIZE_FORMAT " came without a file descriptor",
                       i);
      else if ((fd = g_unix_fd_list_get (fd_list, handle, error)) < 0)
        ok = FALSE;
      if (!ok)
        break;
      g_array_append_val (fds, fd);
      g_ptr_array_add (paths, g_strdup_printf ("/proc/self/fd/%d", fd));
    }
  g_ptr_array_add (paths, NULL);
  if (local_names && g_strv_length ((char **)local_names) != n_local)
    g_clear_pointer (&local_names, g_free);
  TcPkgChangeFlags flags = 0;
  if (lookup_bool (options, "dry-run"))
    flags |= TC_PKG_CHANGE_FLAGS_DRY_RUN;
  if (lookup_bool (options, "idempotent"))
    flags |= TC_PKG_CHANGE_FLAGS_IDEMPOTENT;
  if (lookup_bool (options, "uninstall-all"))
    flags |= TC_PKG_CHANGE_FLAGS_UNINSTALL_ALL;
  g_autofree const char **override_remove = NULL;
  g_autofree const char **override_reset = NULL;
  g_variant_lookup (options, "override-remove", "^a&s", &override_remove);
  g_variant_lookup (options, "override-reset", "^a&s", &override_reset);
  if (lookup_bool (options, "override-reset-all"))
    flags |= TC_PKG_CHANGE_FLAGS_OVERRIDE_RESET_ALL;
  TcPkgChangeRequest request = {
    .install = install,
    .uninstall = uninstall,
    .local_paths = (const char *const *)paths->pdata,
    .local_names = local_names,
    .local_replace = lookup_bool (options, "local-replace"),
    .override_remove = override_remove,
    .override_reset = override_reset,
  };
  ok = ok && tc_pkg_change (sysroot, osname, &request, flags, out_result, cancellable, error);
  for (guint i = 0; i < fds->len; i++)
    (void)close (g_array_index (fds, int, i));
  if (!ok)
    return FALSE;
  return (flags & TC_PKG_CHANGE_FLAGS_DRY_RUN) || maybe_reboot (txn, options, *out_result, error);
}

static gboolean
txn_cleanup (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
             GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  g_autofree const char **elements = NULL;
  g_autoptr(GVariant) options = NULL;
  g_variant_get (args, "(^a&s@a{sv})", &elements, &options);
  TcCleanupFlags flags;
  if (!tc_cleanup_flags_from_strv (elements, &flags, error))
    return FALSE;
  return tc_cleanup (sysroot, osname, flags, out_result, cancellable, error);
}

static gboolean
txn_kargs (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
           GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  g_autofree const char **append = NULL;
  g_autofree const char **delete = NULL;
  g_autofree const char **replace = NULL;
  g_autoptr(GVariant) options = NULL;
  g_variant_get (args, "(^a&s^a&s^a&s@a{sv})", &append, &delete, &replace, &options);
  if (!tc_kargs (sysroot, osname, append, delete, replace, out_result, cancellable, error))
    return FALSE;
  return maybe_reboot (txn, options, *out_result, error);
}

static gboolean
txn_init (TreectldTransaction *txn, OstreeSysroot *sysroot, GVariant **out_result,
          GCancellable *cancellable, GError **error)
{
  const char *osname;
  g_autoptr(GVariant) args = NULL;
  get_request (txn, &osname, &args);
  const char *refspec;
  g_autoptr(GVariant) options = NULL;
  g_variant_get (args, "(&s@a{sv})", &refspec, &options);
  TcInitOptions opts = { .osname = osname, .refspec = refspec };
  g_variant_lookup (options, "url", "&s", &opts.url);
  opts.no_gpg_verify = lookup_bool (options, "no-gpg-verify");
  g_autoptr(GVariant) key = g_variant_lookup_value (options, "gpg-key-data", G_VARIANT_TYPE_BYTESTRING);
  g_autoptr(GBytes) key_bytes = key ? g_variant_get_data_as_bytes (key) : NULL;
  opts.gpg_key = key_bytes;
  g_auto(GStrv) kargs = NULL;
  if (g_variant_lookup (options, "kargs", "^as", &kargs))
    opts.kargs = kargs;
  return tc_init_sysroot (treectld_daemon_get ()->sysroot_path, &opts, out_result, cancellable,
                          error);
}

/* Common path of every mutating method: authorize, join or refuse when busy, create the
 * transaction and return its address. @osname and @args make up the request. */
static void
begin_transaction_with_fds (TreectldDaemon *daemon, GDBusMethodInvocation *invocation,
                            const char *action, const char *title, const char *osname,
                            GVariant *args, GUnixFDList *fd_list, gboolean needs_sysroot,
                            TreectldTxnFunc func)
{
  g_autoptr(GError) local_error = NULL;
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autoptr(GVariant) params = g_variant_ref_sink (g_variant_new ("(s@*)", osname, args));
  treectld_daemon_touch (daemon);

  if (!treectld_auth_check (invocation, action, &local_error))
    {
      g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR,
                                                     G_DBUS_ERROR_ACCESS_DENIED,
                                                     local_error->message);
      return;
    }
  if (daemon->active)
    {
      /* Requests carrying files are never the same request. */
      if (!fd_list && treectld_transaction_matches (daemon->active, method, params))
        {
          g_dbus_method_invocation_return_value (
              invocation, g_variant_new ("(s)", treectld_transaction_get_address (daemon->active)));
          return;
        }
      g_dbus_method_invocation_return_error (
          invocation, G_IO_ERROR, G_IO_ERROR_BUSY,
          "busy: transaction \"%s\" is in progress (started by %s); wait for it or run "
          "'treectl cancel'",
          treectld_transaction_get_title (daemon->active),
          *treectld_transaction_get_sender (daemon->active)
              ? treectld_transaction_get_sender (daemon->active)
              : "a peer client");
      return;
    }
  if (needs_sysroot && !tc_sysroot_check_path (daemon->sysroot_path, &local_error))
    {
      g_dbus_method_invocation_return_gerror (invocation, local_error);
      return;
    }
  uid_t uid = 0;
  if (!treectld_auth_get_caller_uid (invocation, &uid, &local_error))
    {
      g_dbus_method_invocation_return_gerror (invocation, local_error);
      return;
    }
  TreectldTransaction *txn = treectld_transaction_new (
      daemon, title, method, params, g_dbus_method_invocation_get_sender (invocation), uid,
      needs_sysroot, func, &local_error);
  if (!txn)
    {
      g_dbus_method_invocation_return_gerror (invocation, local_error);
      return;
    }
  treectld_transaction_set_fd_list (txn, fd_list);
  daemon->active = txn;
  treectld_daemon_publish_active (daemon);
  g_dbus_method_invocation_return_value (
      invocation, g_variant_new ("(s)", treectld_transaction_get_address (txn)));
}

static void
begin_transaction (TreectldDaemon *daemon, GDBusMethodInvocation *invocation, const char *action,
                   const char *title, const char *osname, GVariant *args, gboolean needs_sysroot,
                   TreectldTxnFunc func)
{
  begin_transaction_with_fds (daemon, invocation, action, title, osname, args, NULL,
                              needs_sysroot, func);
}

static const char *
os_name (TreectlOS *os)
{
  return treectl_os_get_name (os);
}

static gboolean
handle_upgrade (TreectlOS *os, GDBusMethodInvocation *invocation, GVariant *options,
                gpointer user_data)
{
  gboolean check = lookup_bool (options, "check");
  begin_transaction (user_data, invocation, "upgrade", check ? "upgrade --check" : "upgrade",
                     os_name (os), g_variant_new ("(@a{sv})", options), TRUE, txn_upgrade);
  return TRUE;
}

static gboolean
handle_rollback (TreectlOS *os, GDBusMethodInvocation *invocation, GVariant *options,
                 gpointer user_data)
{
  begin_transaction (user_data, invocation, "rollback", "rollback", os_name (os),
                     g_variant_new ("(@a{sv})", options), TRUE, txn_rollback);
  return TRUE;
}

static gboolean
handle_deploy (TreectlOS *os, GDBusMethodInvocation *invocation, const char *revision,
               GVariant *options, gpointer user_data)
{
  g_autofree char *title = g_strdup_printf ("deploy %s", revision);
  begin_transaction (user_data, invocation, "deploy", title, os_name (os),
                     g_variant_new ("(s@a{sv})", revision, options), TRUE, txn_deploy);
  return TRUE;
}

static gboolean
handle_rebase (TreectlOS *os, GDBusMethodInvocation *invocation, const char *refspec,
               GVariant *options, gpointer user_data)
{
  g_autofree char *title = g_strdup_printf ("rebase %s", refspec);
  begin_transaction (user_data, invocation, "rebase", title, os_name (os),
                     g_variant_new ("(s@a{sv})", refspec, options), TRUE, txn_rebase);
  return TRUE;
}

static gboolean
handle_pkg_change (TreectlOS *os, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
                   const char *const *install, const char *const *uninstall, GVariant *local,
                   GVariant *options, gpointer user_data)
{
  /* "install a b", "uninstall c", or both joined by "; ". */
  g_autoptr(GString) title = g_string_new ("");
  if (install[0])
    {
      g_autofree char *joined = g_strjoinv (" ", (char **)install);
      g_string_append_printf (title, "install %s", joined);
    }
  g_autofree const char **local_names = NULL;
  if (g_variant_lookup (options, "local-names", "^a&s", &local_names) && local_names[0])
    {
      g_autofree char *joined = g_strjoinv (" ", (char **)local_names);
      g_string_append_printf (title, "%s%s %s", title->len ? "; " : "",
                              lookup_bool (options, "local-replace") ? "override replace"
                                                                     : "install",
                              joined);
    }
  static const char *const override_keys[] = { "override-remove", "override-reset" };
  for (guint i = 0; i < G_N_ELEMENTS (override_keys); i++)
    {
      g_autofree const char **names = NULL;
      if (g_variant_lookup (options, override_keys[i], "^a&s", &names) && names[0])
        {
          g_autofree char *joined = g_strjoinv (" ", (char **)names);
          g_string_append_printf (title, "%soverride %s %s", title->len ? "; " : "",
                                  override_keys[i] + strlen ("override-"), joined);
        }
    }
  if (lookup_bool (options, "override-reset-all"))
    g_string_append_printf (title, "%soverride reset --all", title->len ? "; " : "");
  if (uninstall[0] || lookup_bool (options, "uninstall-all"))
    {
      g_autofree char *joined = lookup_bool (options, "uninstall-all")
                                    ? g_strdup ("--all")
                                    : g_strjoinv (" ", (char **)uninstall);
      g_string_append_printf (title, "%suninstall %s", title->len ? "; " : "", joined);
    }
  begin_transaction_with_fds (user_data, invocation, "pkgchange", title->str, os_name (os),
                              g_variant_new ("(^as^as@ah@a{sv})", install, uninstall, local,
                                             options),
                              fd_list, TRUE, txn_pkg_change);
  return TRUE;
}

static gboolean
handle_cleanup (TreectlOS *os, GDBusMethodInvocation *invocation, const char *const *elements,
                GVariant *options, gpointer user_data)
{
  g_autofree char *joined = g_strjoinv (" ", (char **)elements);
  g_autofree char *title = g_strdup_printf ("cleanup %s", joined);
  begin_transaction (user_data, invocation, "cleanup", title, os_name (os),
                     g_variant_new ("(^as@a{sv})", elements, options), TRUE, txn_cleanup);
  return TRUE;
}

static gboolean
handle_kargs (TreectlOS *os, GDBusMethodInvocation *invocation, const char *const *append,
              const char *const *delete, const char *const *replace, GVariant *options,
              gpointer user_data)
{
  begin_transaction (user_data, invocation, "bootconfig", "kargs", os_name (os),
                     g_variant_new ("(^as^as^as@a{sv})", append, delete, replace, options), TRUE,
                     txn_kargs);
  return TRUE;
}

static gboolean
handle_init (TreectlSysroot *sysroot, GDBusMethodInvocation *invocation, const char *osname,
             const char *refspec, GVariant *options, gpointer user_data)
{
  g_autofree char *title = g_strdup_printf ("init %s", refspec);
  begin_transaction (user_data, invocation, "init", title, osname,
                     g_variant_new ("(s@a{sv})", refspec, options), FALSE, txn_init);
  return TRUE;
}

static gboolean
handle_reload (TreectlSysroot *sysroot, GDBusMethodInvocation *invocation, gpointer user_data)
{
  treectld_daemon_reload (user_data);
  treectl_sysroot_complete_reload (sysroot, invocation);
  return TRUE;
}

static gboolean
handle_get_os (TreectlSysroot *sysroot, GDBusMethodInvocation *invocation, const char *name,
               gpointer user_data)
{
  TreectldDaemon *daemon = user_data;
  treectld_daemon_touch (daemon);
  treectld_daemon_reload (daemon);
  g_autofree char *osname = g_strdup (name);
  if (*osname == '\0' && daemon->sysroot)
    {
      /* The booted stateroot, else the default deployment's. */
      OstreeDeployment *booted = ostree_sysroot_get_booted_deployment (daemon->sysroot);
      g_autoptr(GPtrArray) deployments = ostree_sysroot_get_deployments (daemon->sysroot);
      OstreeDeployment *d = booted ? booted : deployments->len ? deployments->pdata[0] : NULL;
      if (d)
        {
          g_free (osname);
          osname = g_strdup (ostree_deployment_get_osname (d));
        }
    }
  g_autoptr(GError) local_error = NULL;
  if (!tc_sysroot_check_path (daemon->sysroot_path, &local_error))
    {
      g_dbus_method_invocation_return_gerror (invocation, local_error);
      return TRUE;
    }
  GDBusObject *object = *osname ? g_hash_table_lookup (daemon->os_objects, osname) : NULL;
  if (!object)
    {
      if (*osname)
        g_dbus_method_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                               "stateroot \"%s\" not found in %s", osname,
                                               daemon->sysroot_path);
      else
        g_dbus_method_invocation_return_error (invocation, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                               "no deployments in %s", daemon->sysroot_path);
      return TRUE;
    }
  treectl_sysroot_complete_get_os (sysroot, invocation, g_dbus_object_get_object_path (object));
  return TRUE;
}

void
treectld_operations_connect_sysroot (TreectldDaemon *daemon, TreectlSysroot *sysroot)
{
  g_signal_connect (sysroot, "handle-reload", G_CALLBACK (handle_reload), daemon);
  g_signal_connect (sysroot, "handle-get-os", G_CALLBACK (handle_get_os), daemon);
  g_signal_connect (sysroot, "handle-init", G_CALLBACK (handle_init), daemon);
}

void
treectld_operations_connect_os (TreectldDaemon *daemon, TreectlOS *os)
{
  g_signal_connect (os, "handle-upgrade", G_CALLBACK (handle_upgrade), daemon);
  g_signal_connect (os, "handle-rollback", G_CALLBACK (handle_rollback), daemon);
  g_signal_connect (os, "handle-deploy", G_CALLBACK (handle_deploy), daemon);
  g_signal_connect (os, "handle-rebase", G_CALLBACK (handle_rebase), daemon);
  g_signal_connect (os, "handle-cleanup", G_CALLBACK (handle_cleanup), daemon);
  g_signal_connect (os, "handle-pkg-change", G_CALLBACK (handle_pkg_change), daemon);
  g_signal_connect (os, "handle-kernel-args", G_CALLBACK (handle_kargs), daemon);
}
