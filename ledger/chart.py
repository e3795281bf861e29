"""The default chart of accounts (domain.md §3): installed by migration 0002 and again after every flush."""

DEFAULT_CHART = [
    # code, type, kind, currency type, scope, description
    (101, "asset", "main", "fiat", "platform", "Main Fiat Assets Account"),
    (102, "asset", "main", "coin", "platform", "Main Crypto Assets Account"),
    (201, "liability", "main", "fiat", "member", "Main Fiat Liabilities Account"),
    (202, "liability", "main", "coin", "member", "Main Crypto Liabilities Account"),
    (211, "liability", "locked", "fiat", "member", "Locked Fiat Liabilities Account"),
    (212, "liability", "locked", "coin", "member", "Locked Crypto Liabilities Account"),
    (301, "revenue", "main", "fiat", "platform", "Main Fiat Revenues Account"),
    (302, "revenue", "main", "coin", "platform", "Main Crypto Revenues Account"),
    (401, "expense", "main", "fiat", "platform", "Main Fiat Expenses Account"),
    (402, "expense", "main", "coin", "platform", "Main Crypto Expenses Account"),
]


def install_default_chart(chart_account_model) -> None:
    """Create the default accounts that are missing; existing rows (descriptions changed by a seed) are kept."""
    for code, type_, kind, currency_type, scope, description in DEFAULT_CHART:
        chart_account_model.objects.get_or_create(
            code=code,
            defaults={"type": type_, "kind": kind, "currency_type": currency_type, "scope": scope, "description": description},
        )
