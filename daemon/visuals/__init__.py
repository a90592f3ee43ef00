"""The image: shader scenes driven by the streams, rendered headless (EGL) or on projectors (GLFW)."""
