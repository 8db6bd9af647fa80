"""archfacts builds the model's members without their frozen dataclass's __init__: the
objects must be the ones that __init__ would make; and the arches of one tree, decoded
with one Interned, share their equal members and locations."""

from __future__ import annotations

import dataclasses
import json
import pickle

from headerparse.extract.archfacts import ArchFacts, Interned, RawRecord, decode, encode, member
from headerparse.model import Member


def test_member_is_members_init() -> None:
    for values in (("a.b", "uint32_t", 4, 4, None, None), ("flags", "unsigned int", 8, 4, 65, 3)):
        made, built = member(*values), Member(*values)
        assert type(made) is Member
        assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
        assert vars(made) == vars(built)
        assert pickle.loads(pickle.dumps(made)) == built
        assert dataclasses.astuple(made) == values
    # Whatever Member's __init__ does beyond setting its fields, member() does not.
    assert not hasattr(Member, "__post_init__") and not hasattr(Member, "__slots__")
    assert [f.name for f in dataclasses.fields(Member)] == list(vars(made))
    try:
        made.path = "x"     # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("a member made by member() must stay frozen")


def _facts(arch: str, offset: int) -> ArchFacts:
    """Two records as two arches may see them: the first alike, the second not."""
    from headerparse.model import Layout, Loc

    facts = ArchFacts(arch)
    for key, off in (("struct same", 0), ("struct moved", offset)):
        members = (member("a", "uint32_t", 0, 4, None, None),
                   member("b", "uint64_t", off, 8, None, None))
        facts.records.append(RawRecord(
            "struct", key[7:], key, Loc("x.h", 3 if key.endswith("same") else 9, 1), None,
            Layout(arch, off + 8, 8, members, ()),
            (("a", "a", 4, 14, False, False, None, None),
             ("b", "b", 5, 14, False, False, None, None))))
    return facts


def test_arches_decoded_with_one_interned_share_their_equal_members() -> None:
    shared = Interned()
    x32 = decode(encode(_facts("x86_32", 4)), shared)
    x64 = decode(encode(_facts("x86_64", 8)), shared)
    assert x32 == _facts("x86_32", 4) and x64 == _facts("x86_64", 8)
    same32, moved32 = (r.layout.members for r in x32.records)
    same64, moved64 = (r.layout.members for r in x64.records)
    assert same32[0] is same64[0] is moved32[0] and same32[1] is same64[1]
    assert moved32[1] is not moved64[1] and moved32[1].offset == 4
    assert x32.records[0].loc is x64.records[0].loc
    # Equal member lists are one tuple: the merge compares them by identity.
    assert x32.records[0].fields is x64.records[0].fields is x32.records[1].fields
    # Read back from JSON (the facts cache) the members are lists: decoded, tuples again.
    assert decode(json.loads(json.dumps(encode(x32)))) == x32
