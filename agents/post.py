"""Fixed police posts: the headquarters, one station per precinct, one post per community."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from agents.enums import PostKind

if TYPE_CHECKING:
    from mesa import Model
    from mesa.discrete_space import Cell

    from sim.city import CityLayout


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


def make_posts(model: Model, layout: CityLayout, cells: list[Cell]) -> list[Post]:
    """The HQ, the stations and the community posts of a city as Mesa agents.

    Args:
        model: The model the agents belong to.
        layout: The city (where each post stands).
        cells: The Mesa cells by flat index.
    """
    lay = layout
    posts = [Post(model, cells[lay.hq_cell], PostKind.HQ, 0, lay.hq_cell, -1)]
    posts += [Post(model, cells[c], PostKind.STATION, k, int(c), k)
              for k, c in enumerate(lay.station_cells)]
    posts += [Post(model, cells[c], PostKind.COMMUNITY, k, int(c),
                   int(lay.precinct_of_community[k]))
              for k, c in enumerate(lay.community_post_cells)]
    return posts
