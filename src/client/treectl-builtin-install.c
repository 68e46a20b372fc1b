/* SPDX-License-Identifier: LGPL-2.1-or-later
 * treectl install / uninstall: change the packages layered on the base commit. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

#include "treectl-builtins.h"
#include "treectl-client.h"

static gboolean opt_dry_run;
static gboolean opt_assumeyes;
static gboolean opt_idempotent;
static gboolean opt_all;
static gboolean opt_reboot;
/* override: */
static char **override_remove;
static char **override_reset;
static gboolean opt_reset_all;
static gboolean local_replace;

static GOptionEntry install_entries[] = {
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
    "Resolve and list the packages the layer would hold; deploy nothing", NULL },
  { "assumeyes", 'y', 0, G_OPTION_ARG_NONE, &opt_assumeyes,
    "Do not ask for confirmation (treectl never asks; accepted for rpm-ostree scripts)", NULL },
  { "idempotent", 0, 0, G_OPTION_ARG_NONE, &opt_idempotent,
    "A package that is already requested is not an error", NULL },
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after deploying", NULL },
  { NULL },
};

static GOptionEntry uninstall_entries[] = {
  { "all", 0, 0, G_OPTION_ARG_NONE, &opt_all, "Remove every layered package", NULL },
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
    "Resolve and list the packages the layer would hold; deploy nothing", NULL },
  { "idempotent", 0, 0, G_OPTION_ARG_NONE, &opt_idempotent,
    "A package that is not layered is not an error", NULL },
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after deploying", NULL },
  { NULL },
};

/* A local package file rather than a name: a path, or a name ending in .rpm. */
static gboolean
is_local_file (const char *arg)
{
  return strchr (arg, '/') != NULL || g_str_has_suffix (arg, ".rpm");
}

static int
pkg_change (char **install, char **uninstall, GCancellable *cancellable, GError **error)
{
  /* Local files are opened here, with the caller's permissions, and passed as descriptors. */
  g_autoptr(GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_auto(GVariantBuilder) local = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("ah"));
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GPtrArray) by_name = g_ptr_array_new ();
  for (char **a = install; a && *a; a++)
    {
      if (!is_local_file (*a))
        {
          g_ptr_array_add (by_name, *a);
          continue;
        }
      int fd = open (*a, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          int errsv = errno;
          return (g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "%s: %s", *a,
                               g_strerror (errsv)),
                  1);
        }
      struct stat st;
      if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
        {
          close (fd);
          return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "%s: not a regular file", *a),
                  1);
        }
      gint handle = g_unix_fd_list_append (fd_list, fd, error);
      close (fd);
      if (handle < 0)
        return 1;
      g_variant_builder_add (&local, "h", handle);
      g_ptr_array_add (names, *a);
    }
  g_ptr_array_add (by_name, NULL);
  g_ptr_array_add (names, NULL);

  g_autoptr(TreectlOS) os = NULL;
  g_autoptr(TreectlClient) client = treectl_client_connect_os (&os, cancellable, error);
  if (!client)
    return 1;
  const char *none[] = { NULL };
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "dry-run", g_variant_new_boolean (opt_dry_run));
  g_variant_builder_add (&b, "{sv}", "idempotent", g_variant_new_boolean (opt_idempotent));
  g_variant_builder_add (&b, "{sv}", "uninstall-all", g_variant_new_boolean (opt_all));
  g_variant_builder_add (&b, "{sv}", "reboot", g_variant_new_boolean (opt_reboot));
  g_variant_builder_add (&b, "{sv}", "local-names",
                         g_variant_new_strv ((const char *const *)names->pdata, -1));
  g_variant_builder_add (&b, "{sv}", "local-replace", g_variant_new_boolean (local_replace));
  g_variant_builder_add (&b, "{sv}", "override-reset-all", g_variant_new_boolean (opt_reset_all));
  if (override_remove)
    g_variant_builder_add (&b, "{sv}", "override-remove",
                           g_variant_new_strv ((const char *const *)override_remove, -1));
  if (override_reset)
    g_variant_builder_add (&b, "{sv}", "override-reset",
                           g_variant_new_strv ((const char *const *)override_reset, -1));
  g_autofree char *address = NULL;
  if (!treectl_os_call_pkg_change_sync (os, (const char *const *)by_name->pdata,
                                        uninstall ? (const char *const *)uninstall : none,
                                        g_variant_builder_end (&local), g_variant_builder_end (&b),
                                        fd_list, &address, NULL, cancellable, error))
    return 1;
  /* A dry run changes nothing by design: exit 0. */
  return treectl_client_run_and_finish (client, address, !opt_dry_run, cancellable, error);
}

int
treectl_builtin_install (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context
      = g_option_context_new ("PACKAGE|FILE.rpm... - layer packages on the base commit");
  g_option_context_set_description (
      context,
      "Resolves PACKAGE (a name or a provide) and its dependencies against the base commit's\n"
      "rpmdb and the repositories in the deployment's /etc/yum.repos.d, builds a new local\n"
      "commit holding the base plus the packages, and deploys it as the new default. The\n"
      "request is recorded in the origin; every upgrade applies it again on the new base.\n"
      "A package that would replace, upgrade or remove a base package is refused.\n"
      "FILE.rpm (a path, or a name ending in .rpm) layers a local package: it is verified\n"
      "(signed by a repo key when any repo has gpgcheck=1), kept in the package cache and\n"
      "recorded in the origin by NEVRA; uninstall it by name.\n"
      "Exit status: 0 deployed (or dry run), 77 nothing to do.");
  if (!treectl_option_context_parse (context, install_entries, &argc, &argv, TREECTL_OPT_OS,
                                     error))
    return 1;
  if (argc < 2)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "install needs at least one PACKAGE"),
            1);
  return pkg_change (argv + 1, NULL, cancellable, error);
}

int
treectl_builtin_uninstall (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context
      = g_option_context_new ("PACKAGE...|--all - remove layered packages");
  g_option_context_set_description (
      context,
      "Removes PACKAGE (as it was given to install) from the layered packages and deploys\n"
      "the result. With no layered package left, the base commit itself is deployed again.\n"
      "Exit status: 0 deployed (or dry run), 77 nothing to do.");
  if (!treectl_option_context_parse (context, uninstall_entries, &argc, &argv, TREECTL_OPT_OS,
                                     error))
    return 1;
  if (argc < 2 && !opt_all)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "uninstall needs at least one PACKAGE, or --all"),
            1);
  if (argc >= 2 && opt_all)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "uninstall takes PACKAGE... or --all, not both"),
            1);
  return pkg_change (NULL, argv + 1, cancellable, error);
}

static GOptionEntry override_entries[] = {
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
    "Resolve and list what the new tree would hold; deploy nothing", NULL },
  { "all", 0, 0, G_OPTION_ARG_NONE, &opt_reset_all, "With reset: drop every override", NULL },
  { "idempotent", 0, 0, G_OPTION_ARG_NONE, &opt_idempotent,
    "An override that already exists (or, for reset, does not) is not an error", NULL },
  { "reboot", 'r', 0, G_OPTION_ARG_NONE, &opt_reboot, "Reboot after deploying", NULL },
  { NULL },
};

int
treectl_builtin_override (int argc, char **argv, GCancellable *cancellable, GError **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (
      "remove PACKAGE... | replace FILE.rpm... | reset PACKAGE...|--all - change base packages");
  g_option_context_set_description (
      context,
      "remove: deploys the base without PACKAGE (its files and rpmdb entry); a base package\n"
      "  that needs it makes this fail, naming both.\n"
      "replace: deploys the base with FILE.rpm in place of the base package of the same name\n"
      "  (the file is verified and kept in the package cache, recorded by NEVRA).\n"
      "reset: drops the overrides of PACKAGE (by name), or all with --all.\n"
      "Overrides are recorded in the origin and applied again on every upgrade.\n"
      "Exit status: 0 deployed (or dry run), 77 nothing to do.");
  if (!treectl_option_context_parse (context, override_entries, &argc, &argv, TREECTL_OPT_OS,
                                     error))
    return 1;
  const char *verb = argc > 1 ? argv[1] : NULL;
  char **args = argv + 2;
  int n_args = argc - 2;
  if (!verb)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "override needs remove, replace or reset"),
            1);
  if (g_str_equal (verb, "reset"))
    {
      if ((n_args > 0) == opt_reset_all)
        return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                     "override reset takes PACKAGE... or --all"),
                1);
      override_reset = args;
      return pkg_change (NULL, NULL, cancellable, error);
    }
  if (opt_reset_all)
    return (g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 "--all only goes with override reset"),
            1);
  if (n_args < 1)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "override %s needs at least one %s", verb,
                         g_str_equal (verb, "replace") ? "FILE.rpm" : "PACKAGE"),
            1);
  if (g_str_equal (verb, "remove"))
    {
      override_remove = args;
      return pkg_change (NULL, NULL, cancellable, error);
    }
  if (g_str_equal (verb, "replace"))
    {
      for (int i = 0; i < n_args; i++)
        if (!is_local_file (args[i]))
          return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "override replace: \"%s\" is not a .rpm file (replacing from "
                               "repositories is not supported)",
                               args[i]),
                  1);
      local_replace = TRUE;
      return pkg_change (args, NULL, cancellable, error);
    }
  return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "unknown override command \"%s\" (remove, replace or reset)", verb),
          1);
}
