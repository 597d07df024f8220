"""Fixed police posts: the headquarters, one station per precinct, one post per community."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from agents.enums import PostKind

if TYPE_CHECKING:
    from mesa import Model
    from mesa.discrete_space import Cell


class Post(FixedAgent):
    """A police post on a fixed cell.

    Attributes:
        kind: HQ, station or community post.
        index: Index among posts of the same kind (precinct id for stations, community id
            for community posts, 0 for HQ).
        cell_index: Flat index of the post's cell.
        precinct: Precinct the post belongs to (-1 for HQ).
    """

    def __init__(
        self, model: Model, cell: Cell, kind: PostKind, index: int, cell_index: int,
        precinct: int,
    ) -> None:
        super().__init__(model)
        self.cell = cell
        self.kind = kind
        self.index = index
        self.cell_index = cell_index
        self.precinct = precinct

    def __repr__(self) -> str:
        return f"Post({self.kind.name}, {self.index}, cell={self.cell_index})"
