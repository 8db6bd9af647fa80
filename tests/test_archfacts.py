"""archfacts builds the model's members without their frozen dataclass's __init__: the
objects must be the ones that __init__ would make."""

from __future__ import annotations

import dataclasses
import pickle

from headerparse.extract.archfacts import member
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
