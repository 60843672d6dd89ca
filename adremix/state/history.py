"""History: filterable, bookmarkable list of the user's generations and actions on them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date
from urllib.parse import urlencode

import reflex as rx

from adremix.db import session_scope
from adremix.models import Generation
from adremix.services import library
from adremix.services.history import HistoryFilter, query_history
from adremix.services.storage import LocalStorage
from adremix.services.templates import PLACEMENTS, TEMPLATES
from adremix.settings import get_settings
from adremix.state.session import SessionState

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


@dataclasses.dataclass
class CollectionOption:
    id: str
    name: str
    count: int


def _card(row: Generation) -> GenerationCard:
    template = TEMPLATES.get(row.template)
    outputs = list(row.output_hashes)
    return GenerationCard(
        id=row.id or 0,
        status=row.status,
        date=row.created_at.strftime("%d %b %Y, %H:%M"),
        instructions=row.instructions,
        template=template.name if template else row.template,
        placement=PLACEMENTS.get(row.placement, (row.placement,))[0],
        quality=row.quality,
        variations=row.variations,
        credits=row.credits_spent,
        images=outputs,
        cover=f"/files/thumb/{outputs[0]}.webp" if outputs else "",
        source=row.source_image_hash,
        error=row.error_message or "",
        cached="cached_from" in (row.options or {}),
        favourite=row.is_favourite,
        latency=f"{row.latency_ms / 1000:.1f} s" if row.latency_ms else "",
    )


EMPTY_CARD = GenerationCard(0, "", "", "", "", "", "", 0, 0, [], "", "", "", False, False, "")


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
    new_collection_name: str = ""
    template_name: str = ""

    async def _user_id(self) -> int | None:
        return (await self.get_state(SessionState)).current_user_id()

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
        self._apply(HistoryFilter.from_query(self.router.url.query_parameters))
        self.selected = []
        self.detail_id = 0
        await self._refresh()

    async def _refresh(self) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        self.loading = True
        filters = self._filters()

        def fetch() -> tuple:
            with session_scope() as session:
                page = query_history(
                    session=session, user_id=user_id, filters=filters, page_size=PAGE_SIZE
                )
                folders = library.list_collections(session=session, user_id=user_id)
                return [_card(row) for row in page.items], page, folders

        cards, page, folders = await asyncio.to_thread(fetch)
        self.cards, self.total, self.page_count, self.page = (
            cards,
            page.total,
            page.page_count,
            page.page,
        )
        self.collections = [CollectionOption(str(i), name, count) for i, name, count in folders]
        self.loading = False

    def _push_url(self) -> rx.event.EventSpec:
        query = urlencode(self._filters().to_query())
        url = "/history" + (f"?{query}" if query else "")
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

    async def _act(self, action, success: str):  # type: ignore[no-untyped-def]
        user_id = await self._user_id()
        if user_id is None:
            return rx.toast.error("Please sign in again.")
        try:

            def run() -> object:
                with session_scope() as session:
                    return action(session, user_id)

            await asyncio.to_thread(run)
        except library.LibraryError as exc:
            return rx.toast.error(str(exc))
        await self._refresh()
        return rx.toast.success(success)

    @rx.event
    async def toggle_favourite(self, generation_id: int):  # type: ignore[no-untyped-def]
        card = next((c for c in self.cards if c.id == generation_id), None)
        value = not (card.favourite if card else False)
        return await self._act(
            lambda s, uid: library.set_favourite(
                session=s, user_id=uid, generation_ids=[generation_id], value=value
            ),
            "Added to favourites." if value else "Removed from favourites.",
        )

    @rx.event
    async def favourite_selected(self, value: bool):  # type: ignore[no-untyped-def]
        ids = list(self.selected)
        return await self._act(
            lambda s, uid: library.set_favourite(
                session=s, user_id=uid, generation_ids=ids, value=value
            ),
            f"Updated {len(ids)} generation(s).",
        )

    @rx.event
    async def delete_ids(self, ids: list[int]):  # type: ignore[no-untyped-def]
        storage = LocalStorage(get_settings().storage_dir)
        self.selected = [i for i in self.selected if i not in ids]
        self.detail_id = 0
        return await self._act(
            lambda s, uid: library.delete_generations(
                session=s, user_id=uid, generation_ids=ids, storage=storage
            ),
            f"Deleted {len(ids)} generation(s). Your credit history is unchanged.",
        )

    @rx.event
    async def delete_selected(self):  # type: ignore[no-untyped-def]
        return await self.delete_ids(list(self.selected))

    @rx.event
    async def add_selected_to_collection(self, collection_id: str):  # type: ignore[no-untyped-def]
        ids = list(self.selected)
        return await self._act(
            lambda s, uid: library.add_to_collection(
                session=s, user_id=uid, collection_id=int(collection_id), generation_ids=ids
            ),
            f"Added {len(ids)} generation(s) to the collection.",
        )

    @rx.event
    async def remove_selected_from_collection(self):  # type: ignore[no-untyped-def]
        if self.collection == ALL:
            return rx.toast.error("Filter by a collection first.")
        ids, folder = list(self.selected), int(self.collection)
        self.selected = []
        return await self._act(
            lambda s, uid: library.remove_from_collection(
                session=s, user_id=uid, collection_id=folder, generation_ids=ids
            ),
            f"Removed {len(ids)} generation(s) from the collection.",
        )

    @rx.event
    def set_new_collection_name(self, value: str) -> None:
        self.new_collection_name = value

    @rx.event
    async def create_collection(self):  # type: ignore[no-untyped-def]
        name = self.new_collection_name
        result = await self._act(
            lambda s, uid: library.create_collection(session=s, user_id=uid, name=name),
            f"Created the collection “{name.strip()}”.",
        )
        self.new_collection_name = ""
        return result

    @rx.event
    async def rename_collection(self, form: dict):  # type: ignore[no-untyped-def]
        if self.collection == ALL:
            return rx.toast.error("Choose a collection first.")
        folder, name = int(self.collection), str(form.get("name") or "")
        return await self._act(
            lambda s, uid: library.rename_collection(
                session=s, user_id=uid, collection_id=folder, name=name
            ),
            "Collection renamed.",
        )

    @rx.event
    async def delete_collection(self):  # type: ignore[no-untyped-def]
        if self.collection == ALL:
            return rx.toast.error("Choose a collection first.")
        folder = int(self.collection)
        self.collection = ALL
        result = await self._act(
            lambda s, uid: library.delete_collection(session=s, user_id=uid, collection_id=folder),
            "Collection deleted. Its generations are still in History.",
        )
        return [result, self._push_url()]

    @rx.event
    def open_detail(self, generation_id: int) -> None:
        self.detail_id = generation_id
        self.template_name = ""

    @rx.event
    def close_detail(self) -> None:
        self.detail_id = 0

    @rx.var
    def detail(self) -> GenerationCard:
        found = next((c for c in self.cards if c.id == self.detail_id), None)
        return found or EMPTY_CARD

    @rx.event
    def set_template_name(self, value: str) -> None:
        self.template_name = value

    @rx.event
    async def save_as_template(self):  # type: ignore[no-untyped-def]
        generation_id, name = self.detail_id, self.template_name

        def save(session, user_id):  # type: ignore[no-untyped-def]
            row = session.get(Generation, generation_id)
            if row is None or row.user_id != user_id:
                raise library.LibraryError("That generation does not exist.")
            return library.save_template(
                session=session, user_id=user_id, name=name, options=dict(row.options)
            )

        return await self._act(save, f"Saved the template “{name.strip()}”. Find it on New Ad.")
