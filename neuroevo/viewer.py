"""Old import path of the window (kept for one release): the code now lives in the neuroevo.ui package."""

from .ui.export import MAX_GIF_FRAMES, export_video
from .ui.live import LiveWindow as Viewer
from .ui.playback import PlaybackWindow as PlaybackViewer
from .ui.window import SPEEDS, display_available

__all__ = ["MAX_GIF_FRAMES", "SPEEDS", "PlaybackViewer", "Viewer", "display_available", "export_video"]
