"""The README's privacy walkthrough, run line by line as a new user would (issue 12, "done
when"): an access request created, verified, located, exported and the ZIP verified; then
a deletion request for the same person, erased, after which no find, locate or restored
backup shows her, and the certificate verifies.

The commands are read from the README itself (its block after "Ada asks for her data"),
with the ids each one prints put in place of the placeholders the next ones take, so the
README cannot drift from what the product does.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.e2e.test_cli import ok_json, run

ROOT = Path(__file__).resolve().parents[2]
ADA = "ada@example.com"
#: Each placeholder, in the order they are printed: the command that prints it, and its id.
PRINTED = [
    ("DSR_ID", "privacy create", r"dsr_[a-z2-7]{26}"),
    ("BKP_ID", "backup create", r"bkp_[a-z2-7]{26}"),
    ("DEL_ID", "privacy create", r"dsr_[a-z2-7]{26}"),
    ("CRT_ID", "privacy erase", r"crt_[a-z2-7]{26}"),
]


def walkthrough() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    start = text.index("Ada asks for her data")
    block = text[text.index("```sh\n", start) + 6 : text.index("```\n", start + 30)]
    lines = []
    for line in block.splitlines():
        command = line.split(" #", 1)[0].strip()
        if command:
            lines.append(shlex.split(command))
    return lines


def test_the_readme_privacy_walkthrough_holds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    ws = str(ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)["id"])
    project = str(ok_json("project", "create", ws, "Hiring", home=home)["id"])
    ok_json("collection", "declare", ws, "contacts", "--personal", "email", home=home)
    ada = ok_json("record", "put", ws, project, "contacts", f'{{"email": "{ADA}"}}', home=home)
    bob = ok_json("record", "put", ws, project, "contacts", '{"email": "bob@x.example"}', home=home)
    ids = {"WS_ID": ws}
    outputs: list[tuple[str, str]] = []
    lines = walkthrough()
    assert [" ".join(line[1:3]) for line in lines][:4] == [
        "privacy create",
        "privacy locate",
        "privacy verify",
        "privacy export",
    ]
    for argv in lines:
        assert argv[0] == "strongroom"
        args = []
        for word in argv[1:]:
            for name, value in ids.items():
                word = word.replace(name, value)
            word = word.replace("./home", str(home)).replace("./restored", str(tmp_path / "r"))
            if word.endswith((".zip", ".json")):
                word = str(tmp_path / word)
            args.append(word)
        done = run(*args)
        out = done.stdout.decode()
        assert done.returncode == 0, (argv, out, done.stderr.decode())
        command = " ".join(argv[1:3])
        outputs.append((command, out))
        printed = next(((n, p) for n, c, p in PRINTED if n not in ids and c == command), None)
        if printed is not None:
            found = re.search(printed[1], out)
            assert found, (command, out)
            ids[printed[0]] = found.group(0)

    said = dict(outputs)  # the last output of each command
    assert ada["id"] in next(out for c, out in outputs if c == "privacy locate")
    assert "export verified" in said["export verify"]
    certificate = (tmp_path / "ada-erased.json").read_text()
    assert ids["CRT_ID"] in certificate and ADA not in certificate
    assert "verified" in said["certificate verify"]
    # After the erasure, and in the home restored from a backup taken before it: not found.
    finds = [out for c, out in outputs if c == "record find"]
    assert len(finds) == 2 and all(ada["id"] not in out for out in finds)
    for home_ in (home, tmp_path / "r"):
        assert ada["id"] not in str(ok_json("record", "find", ws, "email", ADA, home=home_))
        assert ok_json("record", "get", ws, project, bob["id"], home=home_)["email"] == (
            "bob@x.example"
        )
    assert ok_json("privacy", "locate", ws, ids["DEL_ID"], home=home) == {"matches": []}
