"""History: filterable, bookmarkable list of the user's generations and actions on them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from adremix.blocking import call
from adremix.enums import ImageKind
from adremix.services import generation, library
from adremix.services.generation import PLACEMENTS, STYLES, describe_result
from adremix.services.library import HistoryFilter, HistoryItem
from adremix.state.errors import error_toast
from adremix.state.session import current_user_id
from adremix.urls import HISTORY, cover_url, file_url

PAGE_SIZE = 24
ALL = "all"


@dataclasses.dataclass
class GenerationCard:
    id: int
    status: str
    date: str
    instructions: str
    template: str
    placement: str
    quality: str
    variations: int
    credits: int
    images: list[str]
    cover: str
    source: str
    error: str
    cached: bool
    favourite: bool
    latency: str
    parent_id: int
    canvas_height: int  # the region-edit canvas's height for a 512 px wide canvas
    image_alt: str


@dataclasses.dataclass
class VersionView:
    """One version in a generation's lineage (the original and its region edits)."""

    id: int
    label: str
    cover: str
    instructions: str
    current: bool


@dataclasses.dataclass
class CollectionOption:
    id: str
    name: str
    count: int


def _card(item: HistoryItem) -> GenerationCard:
    style = STYLES.get(item.template)
    pixels = PLACEMENTS.get(item.placement, PLACEMENTS["square"])[2]
    return GenerationCard(
        id=item.id,
        status=item.status,
        date=item.created_at.strftime("%d %b %Y, %H:%M"),
        instructions=item.instructions,
        template=style.name if style else item.template,
        placement=PLACEMENTS.get(item.placement, (item.placement,))[0],
        quality=item.quality,
        variations=item.variations,
        credits=item.credits_spent,
        images=item.output_hashes,
        cover=cover_url(item.output_hashes),
        source=item.source_hash,
        error=item.error_message or "",
        cached=item.cached,
        favourite=item.favourite,
        latency=f"{item.latency_ms / 1000:.1f} s" if item.latency_ms else "",
        parent_id=item.parent_id or 0,
        canvas_height=round(512 * pixels[1] / pixels[0]),
        image_alt=describe_result(item.template, item.placement),
    )


EMPTY_CARD = GenerationCard(
    0, "", "", "", "", "", "", 0, 0, [], "", "", "", False, False, "", 0, 512, ""
)


class HistoryState(rx.State):
    # Filters (mirrored in the URL query string).
    status: str = ALL
    date_from: str = ""
    date_to: str = ""
    template: str = ALL
    placement: str = ALL
    favourites: bool = False
    collection: str = ALL
    search: str = ""
    sort: str = "newest"
    page: int = 1
    # Results.
    cards: list[GenerationCard] = []
    total: int = 0
    page_count: int = 1
    loading: bool = True
    collections: list[CollectionOption] = []
    selected: list[int] = []
    detail_id: int = 0
    focused: GenerationCard = EMPTY_CARD
    versions: list[VersionView] = []
    new_collection_name: str = ""
    template_name: str = ""

    def _filters(self) -> HistoryFilter:
        def day(value: str) -> date | None:
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                return None

        return HistoryFilter(
            status="" if self.status == ALL else self.status,
            date_from=day(self.date_from),
            date_to=day(self.date_to),
            template="" if self.template == ALL else self.template,
            placement="" if self.placement == ALL else self.placement,
            favourites=self.favourites,
            collection_id=None if self.collection == ALL else int(self.collection),
            search=self.search.strip(),
            sort=self.sort,
            page=self.page,
        )

    def _apply(self, filters: HistoryFilter) -> None:
        self.status = filters.status or ALL
        self.date_from = filters.date_from.isoformat() if filters.date_from else ""
        self.date_to = filters.date_to.isoformat() if filters.date_to else ""
        self.template = filters.template or ALL
        self.placement = filters.placement or ALL
        self.favourites = filters.favourites
        self.collection = str(filters.collection_id) if filters.collection_id else ALL
        self.search = filters.search
        self.sort = filters.sort
        self.page = filters.page

    @rx.event
    async def load(self) -> None:
        params = self.router.url.query_parameters
        self._apply(HistoryFilter.from_query(params))
        self.selected = []
        self.detail_id = 0
        # `?id=N` (the Credits page links each spend so) opens that generation's detail.
        focus = str(params.get("id", ""))
        await self._refresh(focus_id=int(focus) if focus.isdigit() else None)

    @rx.event
    async def refresh(self) -> None:
        """Show the page the filters select (after any change to the user's generations)."""
        await self._refresh()

    async def _refresh(self, focus_id: int | None = None) -> None:
        user_id = await current_user_id(self)
        if user_id is None:
            return
        self.loading = True
        view = await call(
            library.history_view,
            user_id=user_id,
            filters=self._filters(),
            page_size=PAGE_SIZE,
            focus_id=focus_id,
        )
        if view.focused is not None:
            self.focused = _card(view.focused)
            self.detail_id = view.focused.id
        page = view.page
        self.cards = [_card(item) for item in page.items]
        self.total, self.page_count, self.page = page.total, page.page_count, page.page
        self.collections = [
            CollectionOption(str(folder.id), folder.name, folder.count)
            for folder in view.collections
        ]
        self.loading = False

    def _push_url(self) -> rx.event.EventSpec:
        query = urlencode(self._filters().to_query())
        url = HISTORY + (f"?{query}" if query else "")
        # Keep the address bar in step so the view can be bookmarked and survives reload.
        return rx.call_script(f"window.history.replaceState(null, '', {json.dumps(url)})")

    async def _filters_changed(self) -> rx.event.EventSpec:
        self.page = 1
        self.selected = []
        await self._refresh()
        return self._push_url()

    @rx.event
    async def set_status(self, value: str) -> rx.event.EventSpec:
        self.status = value
        return await self._filters_changed()

    @rx.event
    async def set_template_filter(self, value: str) -> rx.event.EventSpec:
        self.template = value
        return await self._filters_changed()

    @rx.event
    async def set_placement_filter(self, value: str) -> rx.event.EventSpec:
        self.placement = value
        return await self._filters_changed()

    @rx.event
    async def set_collection_filter(self, value: str) -> rx.event.EventSpec:
        self.collection = value
        return await self._filters_changed()

    @rx.event
    async def set_favourites(self, value: bool) -> rx.event.EventSpec:
        self.favourites = value
        return await self._filters_changed()

    @rx.event
    async def set_sort(self, value: str) -> rx.event.EventSpec:
        self.sort = value
        return await self._filters_changed()

    @rx.event
    async def set_date_from(self, value: str) -> rx.event.EventSpec:
        self.date_from = value
        return await self._filters_changed()

    @rx.event
    async def set_date_to(self, value: str) -> rx.event.EventSpec:
        self.date_to = value
        return await self._filters_changed()

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value

    @rx.event
    async def submit_search(self) -> rx.event.EventSpec:
        return await self._filters_changed()

    @rx.event
    async def clear_filters(self) -> rx.event.EventSpec:
        self._apply(HistoryFilter())
        return await self._filters_changed()

    @rx.event
    async def go_to_page(self, page: int) -> rx.event.EventSpec:
        self.page = max(1, min(page, self.page_count))
        self.selected = []
        await self._refresh()
        return self._push_url()

    # --- selection and actions --------------------------------------------------------

    @rx.event
    def toggle_selected(self, generation_id: int) -> None:
        if generation_id in self.selected:
            self.selected = [i for i in self.selected if i != generation_id]
        else:
            self.selected = [*self.selected, generation_id]

    @rx.event
    def select_all(self) -> None:
        self.selected = [card.id for card in self.cards]

    @rx.event
    def clear_selection(self) -> None:
        self.selected = []

    async def _act(self, service: Callable[..., Any], success: str, **values: Any) -> list:
        """Run one library action on the user's generations, then show the page again."""
        user_id = await current_user_id(self)
        if user_id is None:
            return [rx.toast.error("Please sign in again.")]
        try:
            await call(service, user_id=user_id, **values)
        except Exception as exc:
            return [error_toast(self, exc)]
        return [HistoryState.refresh, rx.toast.success(success)]

    @rx.event
    async def toggle_favourite(self, generation_id: int):  # type: ignore[no-untyped-def]
        card = next((c for c in self.cards if c.id == generation_id), None)
        value = not (card.favourite if card else False)
        return await self._act(
            library.set_favourite,
            "Added to favourites." if value else "Removed from favourites.",
            generation_ids=[generation_id],
            value=value,
        )

    @rx.event
    async def favourite_selected(self, value: bool):  # type: ignore[no-untyped-def]
        ids = list(self.selected)
        return await self._act(
            library.set_favourite,
            f"Updated {len(ids)} generation(s).",
            generation_ids=ids,
            value=value,
        )

    @rx.event
    async def delete_ids(self, ids: list[int]):  # type: ignore[no-untyped-def]
        self.selected = [i for i in self.selected if i not in ids]
        self.detail_id = 0
        return await self._act(
            library.delete_generations,
            f"Deleted {len(ids)} generation(s). Your credit history is unchanged.",
            generation_ids=ids,
        )

    @rx.event
    async def delete_selected(self):  # type: ignore[no-untyped-def]
        return await self.delete_ids(list(self.selected))

    @rx.event
    async def add_selected_to_collection(self, collection_id: str):  # type: ignore[no-untyped-def]
        ids = list(self.selected)
        return await self._act(
            library.add_to_collection,
            f"Added {len(ids)} generation(s) to the collection.",
            collection_id=int(collection_id),
            generation_ids=ids,
        )

    @rx.event
    async def remove_selected_from_collection(self):  # type: ignore[no-untyped-def]
        if self.collection == ALL:
            return rx.toast.error("Filter by a collection first.")
        ids, folder = list(self.selected), int(self.collection)
        self.selected = []
        return await self._act(
            library.remove_from_collection,
            f"Removed {len(ids)} generation(s) from the collection.",
            collection_id=folder,
            generation_ids=ids,
        )

    @rx.event
    def set_new_collection_name(self, value: str) -> None:
        self.new_collection_name = value

    @rx.event
    async def create_collection(self):  # type: ignore[no-untyped-def]
        name = self.new_collection_name
        result = await self._act(
            library.create_collection,
            f"Created the collection “{name.strip()}”.",
            name=name,
        )
        self.new_collection_name = ""
        return result

    @rx.event
    async def rename_collection(self, form: dict):  # type: ignore[no-untyped-def]
        if self.collection == ALL:
            return rx.toast.error("Choose a collection first.")
        folder, name = int(self.collection), str(form.get("name") or "")
        return await self._act(
            library.rename_collection, "Collection renamed.", collection_id=folder, name=name
        )

    @rx.event
    async def delete_collection(self):  # type: ignore[no-untyped-def]
        if self.collection == ALL:
            return rx.toast.error("Choose a collection first.")
        folder = int(self.collection)
        self.collection = ALL
        result = await self._act(
            library.delete_collection,
            "Collection deleted. Its generations are still in History.",
            collection_id=folder,
        )
        return [*result, self._push_url()]

    @rx.event
    def open_detail(self, generation_id: int) -> rx.event.EventSpec:
        self.detail_id = generation_id
        self.template_name = ""
        self.versions = []
        return HistoryState.load_versions

    @rx.event
    async def load_versions(self) -> None:
        """The open generation's lineage: its original and every region edit of it."""
        user_id = await current_user_id(self)
        if user_id is None or not self.detail_id:
            return
        try:
            family = await call(generation.lineage, user_id=user_id, generation_id=self.detail_id)
        except generation.InvalidRequest:
            family = []
        self.versions = [
            VersionView(
                id=v.id,
                label="Original" if v.parent_id is None else f"Edit #{v.id}",
                cover=file_url(v.cover_sha256, ImageKind.THUMB) if v.cover_sha256 else "",
                instructions=v.instructions[:80],
                current=v.id == self.detail_id,
            )
            for v in family
        ]

    @rx.var
    def version_position(self) -> str:
        """ "Version 2 of 3" for the open generation, "" when it has no edits."""
        if len(self.versions) < 2:
            return ""
        index = next((i for i, v in enumerate(self.versions) if v.current), 0)
        return f"Version {index + 1} of {len(self.versions)}"

    @rx.event
    async def step_version(self, delta: int) -> None:
        """Show the previous (-1) or next (+1) version of the open generation."""
        ids = [v.id for v in self.versions]
        if self.detail_id not in ids:
            return
        index = ids.index(self.detail_id) + delta
        if 0 <= index < len(ids):
            await self._show_version(ids[index])

    @rx.event
    async def show_version(self, generation_id: int) -> None:
        await self._show_version(generation_id)

    async def _show_version(self, generation_id: int) -> None:
        if generation_id not in {v.id for v in self.versions}:
            return
        await self._refresh(focus_id=generation_id)
        self.versions = [
            dataclasses.replace(v, current=v.id == generation_id) for v in self.versions
        ]

    @rx.event
    def close_detail(self) -> None:
        self.detail_id = 0

    @rx.var
    def detail(self) -> GenerationCard:
        found = next((c for c in self.cards if c.id == self.detail_id), None)
        if found is None and self.focused.id == self.detail_id:
            found = self.focused  # opened by a link, and not on this page of the list
        return found or EMPTY_CARD

    @rx.event
    def set_template_name(self, value: str) -> None:
        self.template_name = value

    @rx.event
    async def save_as_template(self):  # type: ignore[no-untyped-def]
        name = self.template_name
        return await self._act(
            library.save_generation_as_template,
            f"Saved the template “{name.strip()}”. Find it on New Ad.",
            generation_id=self.detail_id,
            name=name,
        )
