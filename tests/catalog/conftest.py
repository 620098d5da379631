"""A real, separate Postgres database to sync and scan, registered as a data source."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from apps.catalog import services
from tests.factories import UserFactory

SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

# Sample data: personal data of each kind the scanner knows, beside plain business data.
SOURCE_DDL = """
CREATE SCHEMA crm;
CREATE SCHEMA billing;
CREATE SCHEMA hr;

CREATE TABLE crm.customers (
    id integer PRIMARY KEY,
    email text NOT NULL,
    contact text,
    signup_ip text,
    date_of_birth date,
    plan varchar(20) NOT NULL,
    balance numeric(10, 2)
);
INSERT INTO crm.customers VALUES
    (1, 'jane.doe@example.com', '+14155550101', '192.168.1.20', '1985-04-12', 'gold', 10.50),
    (2, 'bob@corp.example.org', '(415) 555-0102', '10.0.0.7', '1990-11-30', 'free', 0),
    (3, 'li.wei@example.net', '+44 20 7946 0958', '2001:db8::1', '1972-01-05', 'gold', 99.99),
    (4, 'ana@example.com', '415-555-0104', '172.16.0.1', '2001-07-21', 'silver', 5),
    (5, 'omar@example.com', NULL, '8.8.8.8', NULL, 'free', NULL);

CREATE VIEW crm.customer_emails AS SELECT id, email FROM crm.customers;

CREATE TABLE billing.payments (
    id bigint PRIMARY KEY,
    card_pan text,
    reference text,
    account text,
    amount numeric(12, 2) NOT NULL
);
INSERT INTO billing.payments VALUES
    (1, '4242 4242 4242 4242', '4242 4242 4242 4241', 'DE89 3704 0044 0532 0130 00', 12.00),
    (2, '5555555555554444', '5555555555554445', 'GB82WEST12345698765432', 30.10),
    (3, '378282246310005', '378282246310006', 'FR1420041010050500013M02606', 7.25),
    (4, '6011111111111117', '6011111111111118', 'NL91ABNA0417164300', 1.00);

CREATE MATERIALIZED VIEW billing.daily_totals AS
    SELECT 1 AS day, sum(amount) AS total FROM billing.payments;

CREATE TABLE hr.employees (
    id integer PRIMARY KEY,
    ni_number text,
    tax_ref text,
    password text,
    diagnosis text,
    lat double precision,
    department text
);
INSERT INTO hr.employees VALUES
    (1, 'AB123456C', '123-45-6789', 'x', 'asthma', 51.5, 'sales'),
    (2, 'CE 12 34 56 D', '219-09-9999', 'y', 'none', 48.8, 'engineering'),
    (3, 'JG103759A', '078-05-1120', 'z', 'flu', 40.7, 'sales');
"""


@dataclass
class SourceDatabase:
    """A throwaway database on the local server, and a way to change it during a test."""

    name: str

    def execute(self, statement: str, params: Any = None) -> None:
        with psycopg.connect(**SERVER, dbname=self.name, autocommit=True) as conn:
            conn.execute(statement, params)


@pytest.fixture
def source_db() -> Iterator[SourceDatabase]:
    name = f"steward_src_{secrets.token_hex(6)}"
    with psycopg.connect(**SERVER, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = SourceDatabase(name=name)
    try:
        db.execute(SOURCE_DDL)
        yield db
    finally:
        with psycopg.connect(**SERVER, dbname="postgres", autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def source(admin, source_db):
    """The throwaway database registered as data source ``src`` (trust auth: no password)."""
    return services.source_create(
        actor=admin,
        name="src",
        kind="postgres",
        host=SERVER["host"],
        port=SERVER["port"],
        database=source_db.name,
        username=SERVER["user"],
    )
