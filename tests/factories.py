"""factory_boy factories for the catalog and grants. Writes in tests that matter go through
services."""

import datetime as dt

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from apps.access.models import Grant
from apps.catalog.models import Column, Dataset, DataSource
from apps.classification.models import Tag

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class GroupFactory(factory.django.DjangoModelFactory[Group]):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team{n}")


class DataSourceFactory(factory.django.DjangoModelFactory[DataSource]):
    class Meta:
        model = DataSource

    name = factory.Sequence(lambda n: f"source{n}")
    kind = DataSource.Kind.POSTGRES


class DatasetFactory(factory.django.DjangoModelFactory[Dataset]):
    class Meta:
        model = Dataset

    source = factory.SubFactory(DataSourceFactory)
    schema_name = "public"
    table_name = factory.Sequence(lambda n: f"table{n}")
    fqn = factory.LazyAttribute(
        lambda d: Dataset.make_fqn(d.source.name, d.schema_name, d.table_name)
    )


class ColumnFactory(factory.django.DjangoModelFactory[Column]):
    class Meta:
        model = Column

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"col{n}")
    data_type = "text"
    ordinal = factory.Sequence(lambda n: n)


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"tag{n}")


def grants_bulk(n: int, *, expires_in: dt.timedelta) -> set[int]:
    """``n`` read grants for five people on three owned datasets, ending ``expires_in`` from
    now (negative: already expired), one second apart; bulk-inserted. Their ids."""
    from django.utils import timezone

    from apps.access.models import Grant

    users = UserFactory.create_batch(5)
    datasets = DatasetFactory.create_batch(3, owner=UserFactory())
    now = timezone.now()
    step = dt.timedelta(seconds=1 if expires_in.total_seconds() > 0 else -1)
    Grant.objects.bulk_create(
        [
            Grant(
                user=users[i % len(users)],
                dataset=datasets[i % len(datasets)],
                access="read",
                purpose="seeded",
                starts_at=now - dt.timedelta(days=2),
                expires_at=now + expires_in + i * step,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    return set(Grant.objects.values_list("pk", flat=True))


class GrantFactory(factory.django.DjangoModelFactory[Grant]):
    """A read grant for the hour from now, as an approved request leaves one."""

    class Meta:
        model = Grant

    user = factory.SubFactory(UserFactory)
    dataset = factory.SubFactory(DatasetFactory)
    access = "read"
    purpose = "audit"
    starts_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda grant: grant.starts_at + dt.timedelta(hours=1))
