"""Reviewer credentials: salted scrypt hashes from secrets or the environment, never plain text."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli import cli
from matching.auth import (
    REVIEWERS_ENV,
    CredentialsInvalid,
    hash_password,
    is_hash,
    load_credentials,
    verify,
)

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def alice_hash() -> str:
    return hash_password(PASSWORD)


def test_hash_is_salted_and_never_the_password(alice_hash: str):
    assert PASSWORD not in alice_hash
    assert alice_hash.startswith("scrypt$")
    assert is_hash(alice_hash)
    assert hash_password(PASSWORD) != alice_hash  # a fresh salt every time


def test_right_password_accepted_wrong_refused(alice_hash: str):
    creds = {"alice": alice_hash}
    assert verify("alice", PASSWORD, creds)
    assert not verify("alice", PASSWORD + " ", creds)
    assert not verify("alice", "", creds)
    assert not verify("bob", PASSWORD, creds)  # unknown reviewer
    assert not verify("alice", alice_hash, creds)  # the hash is not the password


def test_unicode_passwords_work():
    stored = hash_password("pässwörd 水 🚰")
    assert verify("zoë", "pässwörd 水 🚰", {"zoë": stored})
    assert not verify("zoë", "passwort 水 🚰", {"zoë": stored})


def test_tampered_or_malformed_hashes_never_verify(alice_hash: str):
    scheme, n, r, p, salt, key = alice_hash.split("$")
    flipped = key[:-3] + ("A" if key[-3] != "A" else "B") + key[-2:]
    for stored in (
        "$".join([scheme, n, r, p, salt, flipped]),
        "$".join(["bcrypt", n, r, p, salt, key]),
        "$".join([scheme, "1000", r, p, salt, key]),  # not a power of two
        "$".join([scheme, n, r, p, "%%%", key]),
        PASSWORD,
        "",
    ):
        assert not verify("alice", PASSWORD, {"alice": stored}), stored


def test_credentials_from_env_and_secrets(alice_hash: str):
    bob_hash = hash_password("bob's password")
    env = {REVIEWERS_ENV: f"alice:{alice_hash}, bob:{bob_hash}"}
    assert load_credentials(env) == {"alice": alice_hash, "bob": bob_hash}
    carol_hash = hash_password("carol")
    secrets = {"reviewers": {"carol": carol_hash, "bob": alice_hash}}
    creds = load_credentials(env, secrets)
    assert creds == {"alice": alice_hash, "bob": alice_hash, "carol": carol_hash}
    assert verify("carol", "carol", creds)
    assert load_credentials({}, None) == {}


def test_plain_password_in_configuration_is_refused():
    with pytest.raises(CredentialsInvalid, match="reviewer 'alice'.*hash-password"):
        load_credentials({REVIEWERS_ENV: "alice:hunter2"})
    with pytest.raises(CredentialsInvalid, match="reviewer 'bob'"):
        load_credentials({}, {"reviewers": {"bob": "hunter2"}})
    with pytest.raises(CredentialsInvalid, match="name:hash"):
        load_credentials({REVIEWERS_ENV: "just-a-name"})


def test_hash_password_command_prints_a_verifiable_hash():
    result = CliRunner().invoke(cli, ["hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    printed = result.stdout.strip().splitlines()[-1]
    assert is_hash(printed)
    assert PASSWORD not in result.stdout
    assert verify("alice", PASSWORD, {"alice": printed})


def test_hash_password_command_refuses_mismatched_or_empty_input():
    result = CliRunner().invoke(cli, ["hash-password"], input="one\ntwo\n")
    assert result.exit_code != 0
    assert not any(is_hash(line) for line in result.stdout.splitlines())
