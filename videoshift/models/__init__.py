"""Recognizers (backbone + head) for video, created by name through the registry."""

from videoshift.models.registry import create_model, is_model, list_models, register_model

__all__ = ["create_model", "is_model", "list_models", "register_model"]
