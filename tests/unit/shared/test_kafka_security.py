"""The Kafka security settings reach every aiokafka client the services build (producer, consumer, admin)."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from services.credit.settings import CreditSettings
from shared.kafka import make_admin, make_consumer, make_producer

CA_NAME = "creditflow-test-cluster-ca"


def write_ca(path: Path) -> Path:
    """A self-signed CA certificate in PEM, as Strimzi's <cluster>-cluster-ca-cert Secret holds in ca.crt."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def client_of(kind: str, settings: CreditSettings) -> Any:
    """(the aiokafka object, its network client) for one kind of client the services build."""
    builders: dict[str, Callable[[], Any]] = {
        "producer": lambda: make_producer(settings, client_id="test"),
        "consumer": lambda: make_consumer(settings, "creditflow.customers", group_id="creditflow-credit"),
        "admin": lambda: make_admin(settings),
    }
    return builders[kind]()


@pytest.fixture
async def built() -> AsyncIterator[list[Any]]:
    """Clients built by a test, closed afterwards (never started: nothing connects)."""
    clients: list[Any] = []
    yield clients
    for client in clients:
        await (client.stop() if hasattr(client, "stop") else client.close())


def network_client(client: Any) -> Any:
    """The AIOKafkaClient inside (it holds the connection options): ``client`` of a producer, else ``_client``."""
    return client.client if hasattr(client, "client") else client._client


@pytest.mark.parametrize("kind", ["producer", "consumer", "admin"])
async def test_scram_over_tls_reaches_the_client(kind: str, tmp_path: Path, built: list[Any]) -> None:
    cafile = write_ca(tmp_path / "ca.crt")
    settings = CreditSettings(
        kafka_bootstrap_servers="creditflow-kafka-bootstrap:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="creditflow-credit",
        kafka_sasl_password="from-the-kafkauser-secret",
        kafka_ssl_cafile=cafile,
    )
    client = client_of(kind, settings)
    built.append(client)
    network = network_client(client)
    assert network._security_protocol == "SASL_SSL"
    assert network._sasl_mechanism == "SCRAM-SHA-512"
    assert network._sasl_plain_username == "creditflow-credit"
    assert network._sasl_plain_password == "from-the-kafkauser-secret"
    context: ssl.SSLContext = network._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    subjects = [dict(item[0] for item in ca["subject"]) for ca in context.get_ca_certs()]
    assert subjects == [{"commonName": CA_NAME}], "only the cluster CA is trusted"


@pytest.mark.parametrize("kind", ["producer", "consumer", "admin"])
async def test_plaintext_has_no_tls_and_no_sasl(kind: str, built: list[Any]) -> None:
    client = client_of(kind, CreditSettings())
    built.append(client)
    network = network_client(client)
    assert network._security_protocol == "PLAINTEXT"
    assert network._ssl_context is None
    assert network._sasl_mechanism in (None, "PLAIN")  # aiokafka's default, unused without SASL_*
    assert network._sasl_plain_username is None


async def test_tls_without_a_ca_file_trusts_the_system_cas(built: list[Any]) -> None:
    client = client_of("producer", CreditSettings(kafka_security_protocol="SSL"))
    built.append(client)
    context: ssl.SSLContext = network_client(client)._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True


def test_the_settings_come_from_the_service_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CREDITFLOW_CREDIT_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("CREDITFLOW_CREDIT_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("CREDITFLOW_CREDIT_KAFKA_SASL_USERNAME", "creditflow-credit")
    monkeypatch.setenv("CREDITFLOW_CREDIT_KAFKA_SASL_PASSWORD", "secret")
    monkeypatch.setenv("CREDITFLOW_CREDIT_KAFKA_SSL_CAFILE", str(tmp_path / "ca.crt"))
    settings = CreditSettings()
    assert settings.kafka_ssl_cafile == tmp_path / "ca.crt"
    assert settings.kafka_sasl_password is not None and settings.kafka_sasl_password.get_secret_value() == "secret"


def test_an_unknown_sasl_mechanism_is_refused() -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_mechanism"):
        CreditSettings(kafka_sasl_mechanism="SCRAM-SHA-1")
