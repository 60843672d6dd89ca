"""The user's library: history (filters, search, pages), favourites, collections, saved
templates, preferences and the dashboard. Every function is scoped to the acting user."""

from adremix.services.library.browse import (
    HistoryView,
    NewAdDefaults,
    history_view,
    new_ad_defaults,
)
from adremix.services.library.collections import (
    CollectionSummary,
    add_to_collection,
    create_collection,
    delete_collection,
    list_collections,
    remove_from_collection,
    rename_collection,
)
from adremix.services.library.dashboard import Dashboard, DashboardStats, dashboard, dashboard_stats
from adremix.services.library.errors import LibraryError
from adremix.services.library.favourites import delete_generations, set_favourite
from adremix.services.library.history import (
    HistoryFilter,
    HistoryItem,
    HistoryPage,
    query_history,
)
from adremix.services.library.preferences import (
    MAX_LOW_CREDIT_THRESHOLD,
    default_preferences,
    read_preferences,
    save_preferences,
)
from adremix.services.library.saved_templates import (
    SavedTemplate,
    delete_template,
    list_templates,
    rename_template,
    save_generation_as_template,
    save_template,
    template_options,
)

__all__ = [
    "MAX_LOW_CREDIT_THRESHOLD",
    "CollectionSummary",
    "Dashboard",
    "DashboardStats",
    "HistoryFilter",
    "HistoryItem",
    "HistoryPage",
    "HistoryView",
    "LibraryError",
    "NewAdDefaults",
    "SavedTemplate",
    "add_to_collection",
    "create_collection",
    "dashboard",
    "dashboard_stats",
    "default_preferences",
    "delete_collection",
    "delete_generations",
    "delete_template",
    "history_view",
    "list_collections",
    "list_templates",
    "new_ad_defaults",
    "query_history",
    "read_preferences",
    "remove_from_collection",
    "rename_collection",
    "rename_template",
    "save_generation_as_template",
    "save_preferences",
    "save_template",
    "set_favourite",
    "template_options",
]
