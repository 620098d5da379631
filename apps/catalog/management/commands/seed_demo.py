"""``manage.py seed_demo``: a small, realistic catalog to click through. Safe to run again."""

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.catalog import services
from apps.catalog.management.demo_data import (
    DATASETS,
    LINEAGE,
    SCANNER_FINDINGS,
    SOURCES,
    TAGS,
)
from apps.catalog.models import ClassificationSuggestion, Column, Dataset, DataSource, LineageEdge
from apps.classification import services as taxonomy_services
from apps.classification.models import DataCategory, SensitivityLevel, Tag

DEFAULT_PASSWORD = "steward-demo"  # noqa: S105 - a demo login, printed for the person running it
SAMPLED = 200


class Command(BaseCommand):
    help = "Load demo users, sources, datasets, lineage and suggestions (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or DEFAULT_PASSWORD
        if not SensitivityLevel.objects.exists():
            self.stderr.write("No sensitivity levels: run `manage.py migrate` first.")
            return
        admin, admin_created = self._user("admin", password, superuser=True)
        self._user("dana", password, first_name="Dana", last_name="Owner")
        self._user("sam", password, first_name="Sam", last_name="Steward")
        growth, _ = Group.objects.get_or_create(name="growth-team")
        get_user_model().objects.get(username="dana").groups.add(growth)
        Group.objects.get_or_create(name="support-emea")  # ana's (see _access): a row filter

        for key, description in TAGS.items():
            if not Tag.objects.filter(key=key).exists():
                taxonomy_services.tag_create(actor=admin, key=key, description=description)

        sources = {
            s.name: s for s in DataSource.objects.filter(name__in=[s["name"] for s in SOURCES])
        }
        for spec in SOURCES:
            if spec["name"] not in sources:
                sources[spec["name"]] = services.source_create(actor=admin, **spec)

        created = 0
        for spec in DATASETS:
            created += self._dataset(admin, sources[spec["source"]], spec)

        edges = 0
        by_fqn = {d.fqn: d for d in Dataset.objects.filter(source__in=sources.values())}
        for up, down in LINEAGE:
            upstream, downstream = by_fqn[up], by_fqn[down]
            if not LineageEdge.objects.filter(upstream=upstream, downstream=downstream).exists():
                services.lineage_edge_create(actor=admin, upstream=upstream, downstream=downstream)
                edges += 1

        suggestions = self._suggestions(by_fqn)
        self._access(admin, password, sources)
        self._review(admin)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog ready: {len(by_fqn)} datasets ({created} new), "
                f"{edges} new lineage edges, {suggestions} new suggestions."
            )
        )
        if admin_created:
            self.stdout.write(f"Sign in at /accounts/login/ as admin / {password}")
            self.stdout.write(
                f"(also dana / {password} as a data owner, sam as a steward with break-glass,"
                " ana as an analyst with a pending access request for dana to approve; dana"
                " also has access review items at /reviews/)"
            )
        else:
            self.stdout.write("Sign in at /accounts/login/ as admin (existing password kept).")

    def _access(self, admin: Any, password: str, sources: dict[str, DataSource]) -> None:
        """Roles for the demo people, and one access request waiting in dana's inbox."""
        from apps.access import services as access
        from apps.access.models import AccessRequest, Role, RoleBinding

        ana, _ = self._user("ana", password, first_name="Ana", last_name="Analyst")
        ana.groups.add(Group.objects.get(name="support-emea"))
        sam = get_user_model().objects.get(username="sam")
        first_source = next(iter(sorted(sources)))
        for role, user, source in (
            ("analyst", ana, sources[first_source]),
            ("break_glass", sam, None),
        ):
            if not RoleBinding.objects.filter(role__key=role, user=user).exists():
                access.role_binding_create(
                    actor=admin, role=Role.objects.get(key=role), user=user, source=source
                )
        wanted = (
            Dataset.objects.filter(owner__username="dana", removed_at__isnull=True)
            .exclude(effective_sensitivity__key="public")
            .order_by("fqn")
            .first()
        )
        if wanted is not None and not AccessRequest.objects.filter(requester=ana).exists():
            access.access_request_create(
                actor=ana,
                dataset=wanted,
                access="read",
                purpose="Quarterly churn analysis for the board deck",
                duration_seconds=86400,
            )

    def _review(self, admin: Any) -> None:
        """An open access review campaign over the demo role bindings: the source owner (admin)
        reviews ana's, and dana, the fallback reviewer, sam's global break-glass role."""
        from apps.reviews import services as reviews
        from apps.reviews.models import Campaign

        if Campaign.objects.exists():
            return
        campaign = reviews.campaign_start(
            actor=admin, name="Quarterly access review (demo)", fallback_reviewer="dana"
        )
        reviews.campaign_generate(campaign_id=campaign.pk)  # the task that follows finds it done

    def _user(
        self, username: str, password: str, *, superuser: bool = False, **names: str
    ) -> tuple[Any, bool]:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None:
            return user, False
        if superuser:
            user = User.objects.create_superuser(
                username=username, email=f"{username}@example.com", password=password
            )
        else:
            user = User.objects.create_user(
                username=username, email=f"{username}@example.com", password=password, **names
            )
        return user, True

    def _dataset(self, admin: Any, source: DataSource, spec: dict[str, Any]) -> int:
        """Create one dataset with its columns and classification; nothing if it exists."""
        fqn = Dataset.make_fqn(source.name, spec["schema"], spec["table"])
        if Dataset.objects.filter(fqn=fqn).exists():
            return 0
        with transaction.atomic():
            dataset = services.dataset_create(
                actor=admin,
                source=source,
                schema_name=spec["schema"],
                table_name=spec["table"],
                kind=spec["kind"],
            )
            Column.objects.bulk_create(
                [
                    Column(
                        dataset=dataset,
                        name=name,
                        data_type=data_type,
                        is_nullable=nullable,
                        ordinal=i,
                    )
                    for i, (name, data_type, nullable, _, _) in enumerate(spec["columns"], 1)
                ],
                ignore_conflicts=True,
            )
            services.dataset_update(
                actor=admin,
                dataset=dataset,
                description=spec["description"],
                provenance=spec["provenance"],
                owner=spec["owner"],
                owner_group=spec["owner_group"],
                steward=spec["steward"],
                sensitivity=spec["sensitivity"],
                categories=spec["categories"],
                tags=spec["tags"],
                purposes=spec["purposes"],
                row_filter=spec["row_filter"],
            )
            if spec["classified"]:
                columns = {c.name: c for c in dataset.columns.all()}
                for name, _, _, level, cats in spec["columns"]:
                    if level or cats:
                        services.column_classify(
                            actor=admin,
                            column=columns[name],
                            sensitivity=level,
                            categories=cats.split(),
                        )
        return 1

    def _suggestions(self, by_fqn: dict[str, Dataset]) -> int:
        """Pending scanner suggestions for the PII-looking columns of unclassified datasets."""
        categories = {c.key: c for c in DataCategory.objects.select_related("default_sensitivity")}
        made = 0
        for spec in DATASETS:
            if spec["classified"]:
                continue
            dataset = by_fqn[Dataset.make_fqn(spec["source"], spec["schema"], spec["table"])]
            columns = {c.name: c for c in dataset.columns.all()}
            for name, _, _, _, cats in spec["columns"]:
                for key in cats.split():
                    if key not in SCANNER_FINDINGS:
                        continue
                    column, category = columns[name], categories[key]
                    # Any earlier suggestion (even one a person decided) means: already raised.
                    if ClassificationSuggestion.objects.filter(
                        column=column, category=category
                    ).exists():
                        continue
                    detector, matches, examples = SCANNER_FINDINGS[key]
                    ClassificationSuggestion.objects.create(
                        column=column,
                        category=category,
                        sensitivity=category.default_sensitivity,
                        detector=detector,
                        confidence=round(matches / SAMPLED, 3),
                        evidence={"sampled": SAMPLED, "matches": matches, "examples": examples},
                    )
                    made += 1
        return made
