"""Forms for the catalog UI. They parse and shape input; the services validate and decide."""

from typing import Any

from django import forms

from apps.catalog.models import DataSource
from apps.catalog.services.usage import row_filter_named
from apps.core.errors import ApplicationError


def _level_choices(levels: Any, blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((lvl.key, lvl.name) for lvl in levels)]


def _keyed_choices(objects: Any) -> list[tuple[str, str]]:
    return [(o.key, getattr(o, "name", o.key)) for o in objects]


class DatasetFilterForm(forms.Form):
    """The catalog browser's search box and filters (GET parameters)."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    source = forms.ChoiceField(required=False, label="Source")
    sensitivity = forms.ChoiceField(required=False, label="Sensitivity")
    category = forms.ChoiceField(required=False, label="Category")
    owner = forms.CharField(
        required=False,
        label="Owner or steward",
        max_length=150,
        help_text="A username or group name.",
    )
    tag = forms.ChoiceField(required=False, label="Tag")
    unclassified = forms.BooleanField(required=False, label="Unclassified only")

    def __init__(
        self,
        *args: Any,
        sources: Any = (),
        levels: Any = (),
        categories: Any = (),
        tags: Any = (),
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "All sources"), *((s, s) for s in sources)]  # type: ignore[attr-defined]
        self.fields["sensitivity"].choices = _level_choices(levels, "Any sensitivity")  # type: ignore[attr-defined]
        self.fields["category"].choices = [("", "Any category"), *_keyed_choices(categories)]  # type: ignore[attr-defined]
        self.fields["tag"].choices = [("", "Any tag"), *((t.key, t.key) for t in tags)]  # type: ignore[attr-defined]


class ColumnClassifyForm(forms.Form):
    """One column's sensitivity and categories (replacing the set)."""

    sensitivity = forms.ChoiceField(required=False, label="Sensitivity")
    categories = forms.MultipleChoiceField(required=False, label="Categories")

    def __init__(self, *args: Any, levels: Any = (), categories: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["sensitivity"].choices = _level_choices(levels, "Unclassified")  # type: ignore[attr-defined]
        self.fields["categories"].choices = _keyed_choices(categories)  # type: ignore[attr-defined]


class ColumnsBulkClassifyForm(forms.Form):
    """Many columns at once: a sensitivity and/or categories to add."""

    column_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Columns")
    sensitivity = forms.ChoiceField(required=False, label="Set sensitivity")
    add_categories = forms.MultipleChoiceField(required=False, label="Add categories")

    def __init__(
        self,
        *args: Any,
        column_ids: Any = (),
        levels: Any = (),
        categories: Any = (),
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["column_ids"].choices = [(str(pk), str(pk)) for pk in column_ids]  # type: ignore[attr-defined]
        self.fields["sensitivity"].choices = _level_choices(levels, "Keep as is")  # type: ignore[attr-defined]
        self.fields["add_categories"].choices = _keyed_choices(categories)  # type: ignore[attr-defined]


class DatasetEditForm(forms.Form):
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    provenance = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.CharField(required=False, max_length=150, label="Owner (username)")
    owner_group = forms.CharField(required=False, max_length=150, label="Owner group")
    steward = forms.CharField(required=False, max_length=150, label="Steward (username)")
    steward_group = forms.CharField(required=False, max_length=150, label="Steward group")
    sensitivity = forms.ChoiceField(required=False, label="Declared sensitivity")
    categories = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    tags = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    purposes = forms.CharField(
        required=False,
        max_length=2000,
        label="Purposes of use",
        help_text="Purpose keys it may be read for, comma-separated (e.g. support, billing); "
        "empty: any purpose.",
    )
    row_filter_column = forms.ChoiceField(
        required=False,
        label="Row filter column",
        help_text="Filter rows by this column's value; owners and admins see every row.",
    )
    row_filter_rules = forms.CharField(
        required=False,
        label="Rows each group or person sees",
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "group:emea = EU, UK\nuser:vera = US"}
        ),
        help_text="One rule per line: group:<name> or user:<username> = values. Anyone named in "
        "no rule sees no rows (and is denied).",
    )

    # Which form fields a service's "unknown <thing>" error can be about.
    _ERROR_FIELDS = {
        "unknown_user": ("owner", "steward"),
        "unknown_group": ("owner_group", "steward_group"),
        "unknown_sensitivity": ("sensitivity",),
        "unknown_category": ("categories",),
        "unknown_tag": ("tags",),
    }

    def __init__(
        self,
        *args: Any,
        levels: Any = (),
        categories: Any = (),
        tags: Any = (),
        columns: Any = (),
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["sensitivity"].choices = _level_choices(levels, "Not declared")  # type: ignore[attr-defined]
        self.fields["categories"].choices = _keyed_choices(categories)  # type: ignore[attr-defined]
        self.fields["tags"].choices = [(t.key, t.key) for t in tags]  # type: ignore[attr-defined]
        self.fields["row_filter_column"].choices = [  # type: ignore[attr-defined]
            ("", "No row filter"),
            *((c, c) for c in columns),
        ]

    def clean_purposes(self) -> list[str]:
        return [p.strip() for p in self.cleaned_data["purposes"].split(",") if p.strip()]

    def clean(self) -> dict[str, Any]:
        """``row_filter`` as the service takes it (None: none), from the column and the rules."""
        data = super().clean() or {}
        column = data.pop("row_filter_column", "")
        text = data.pop("row_filter_rules", "") or ""
        rules = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            who, sep, values = line.partition("=")
            kind, colon, name = who.strip().partition(":")
            if not sep or not colon or kind not in ("group", "user") or not name.strip():
                self.add_error(
                    "row_filter_rules",
                    f"Line {number}: write group:<name> = values or user:<username> = values.",
                )
                return data
            rules.append(
                {kind: name.strip(), "values": [v.strip() for v in values.split(",") if v.strip()]}
            )
        if rules and not column and "row_filter_column" not in self.errors:
            self.add_error("row_filter_column", "Choose the column the rules filter on.")
        data["row_filter"] = {"column": column, "rules": rules} if column else None
        return data

    @staticmethod
    def initial_for(dataset: Any) -> dict[str, Any]:
        row_filter = row_filter_named(dataset) or {"column": "", "rules": []}
        return {
            "description": dataset.description,
            "provenance": dataset.provenance,
            "owner": dataset.owner.get_username() if dataset.owner else "",
            "owner_group": dataset.owner_group.name if dataset.owner_group else "",
            "steward": dataset.steward.get_username() if dataset.steward else "",
            "steward_group": dataset.steward_group.name if dataset.steward_group else "",
            "sensitivity": dataset.sensitivity.key if dataset.sensitivity else "",
            "categories": [c.key for c in dataset.categories.all()],
            "tags": [t.key for t in dataset.tags.all()],
            "purposes": ", ".join(dataset.purposes),
            "row_filter_column": row_filter["column"],
            "row_filter_rules": "\n".join(
                f"{kind}:{rule[kind]} = {', '.join(rule['values'])}"
                for rule in row_filter["rules"]
                for kind in ("group", "user")
                if kind in rule
            ),
        }

    def add_service_error(self, err: ApplicationError) -> None:
        """Put a service's refusal next to the field it is about (or above the form)."""
        fields = err.extra.get("fields") if isinstance(err.extra, dict) else None
        if fields:
            for name, messages in fields.items():
                if name == "row_filter.column":
                    name = "row_filter_column"
                elif name.startswith("row_filter"):
                    name = "row_filter_rules"
                target = name if name in self.fields else None
                for message in messages:
                    self.add_error(target, message)
            return
        for name in self._ERROR_FIELDS.get(err.code, ()):
            value = self.cleaned_data.get(name)
            values = value if isinstance(value, list) else [value]
            if any(v and repr(v) in err.message for v in values):
                self.add_error(name, err.message)
                return
        self.add_error(None, err.message)


class SourceCreateForm(forms.Form):
    name = forms.CharField(max_length=63, help_text="Lowercase; the first part of every fqn.")
    kind = forms.ChoiceField(choices=DataSource.Kind.choices)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    host = forms.CharField(required=False, max_length=255)
    port = forms.IntegerField(required=False, min_value=1, max_value=65535)
    database = forms.CharField(required=False, max_length=255)
    username = forms.CharField(required=False, max_length=255)
    # Write-only: never rendered back, not even after a failed submission.
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), strip=False
    )

    def add_service_error(self, err: ApplicationError) -> None:
        fields = err.extra.get("fields") if isinstance(err.extra, dict) else None
        if fields:
            for name, messages in fields.items():
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        elif err.code == "duplicate_source":
            self.add_error("name", err.message)
        else:
            self.add_error(None, err.message)
