"""Generated docstrings read as English: "Create an analysis", "Delete a node", "a user"."""

from __future__ import annotations

import re

import pytest

import flame_hub
import flame_hub.models as models
from flame_hub._naming import with_article

#: "a" before a vowel (but "a user": the u says "you"), or "an" before a consonant
WRONG_ARTICLE = re.compile(r"\b(?:a (?:[aeio]|u(?!s|ni))\w+|an [^aeiouAEIOU\W]\w*)")  # "a UUID" is right
CLIENTS = [flame_hub.AuthClient, flame_hub.CoreClient, flame_hub.StorageClient,
           flame_hub.AsyncAuthClient, flame_hub.AsyncCoreClient, flame_hub.AsyncStorageClient]


@pytest.mark.parametrize("noun, expected", [("analysis", "an analysis"), ("node", "a node"),
                                            ("user role", "a user role"), ("identity provider",
                                                                          "an identity provider"),
                                            ("update", "an update"), ("create", "a create")])
def test_with_article(noun, expected):
    assert with_article(noun) == expected


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.__name__)
def test_helper_docstrings_use_the_right_article(client):
    wrong = {name: WRONG_ARTICLE.findall(getattr(client, name).__doc__ or "")
             for name in dir(client) if not name.startswith("_")}
    assert {name: hits for name, hits in wrong.items() if hits} == {}


def test_the_issues_examples_read_as_english():
    assert flame_hub.CoreClient.create_analysis.__doc__.startswith("Create an analysis. ")
    assert flame_hub.CoreClient.delete_analysis_node.__doc__.startswith("Delete an analysis node ")
    assert flame_hub.AuthClient.update_user.__doc__.startswith("Update a user: ")
    assert flame_hub.CoreClient.send_analysis_command.__doc__.startswith("Send a command to an analysis;")


def test_request_model_docstrings_use_the_right_article():
    assert models.request_model("nodes", "update").__doc__.startswith("Body of an update of ``nodes``")
    assert models.request_model("analyses", "create").__doc__.startswith("Body of a create of ``analyses``")
