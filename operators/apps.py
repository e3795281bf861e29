from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _install_roles(sender, apps=global_apps, verbosity=0, **kwargs):
    # After every migrate and every test flush: the role groups hold exactly the permissions of operators.roles.
    from operators.roles import install_roles

    try:
        apps.get_model("operators", "AuditRecord")
    except LookupError:  # operators not migrated yet (a partial migrate)
        return
    install_roles(apps, verbosity=verbosity)


class OperatorsConfig(AppConfig):
    name = "operators"
    verbose_name = "Operators"

    def ready(self):
        post_migrate.connect(_install_roles, sender=self, dispatch_uid="operators.install_roles")
