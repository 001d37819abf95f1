"""The texts items are embedded from."""

from __future__ import annotations

from pricegraph.embeddings.texts import brand_text, customer_profile_text, product_text, text_hash


def test_product_text_orders_the_facts() -> None:
    text = product_text(
        "Quilted Tote", "Soft  lambskin.", "Verne", "luxury", "Women > Bags", "colour=black"
    )
    assert text == "Quilted Tote. Verne (luxury). Women > Bags. Soft lambskin. colour=black."


def test_product_text_tolerates_missing_parts() -> None:
    assert product_text("WHITE HEART HOLDER") == "WHITE HEART HOLDER"
    assert product_text("Tote", float("nan"), None, "luxury") == "Tote"


def test_brand_and_profile_texts() -> None:
    assert brand_text("Verne", "luxury", "Paris leather house") == (
        "Verne, a luxury brand. Paris leather house"
    )
    assert customer_profile_text(None, "FR") == ""
    assert customer_profile_text("Loves minimalist tailoring", "FR") == (
        "Loves minimalist tailoring (FR)"
    )


def test_text_hash_depends_on_text_and_model() -> None:
    assert text_hash("a", "m1") == text_hash("a", "m1")
    assert text_hash("a", "m1") != text_hash("b", "m1")
    assert text_hash("a", "m1") != text_hash("a", "m2")
