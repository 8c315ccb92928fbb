"""The test suite. Importing it (pytest does, before any conftest) keeps a developer's
.env out of every test and every process a test starts: settings come from the tests."""

import os

# service.core.settings loads ENV_FILE (default: the project's .env) on import; the flask
# command loads .env itself unless FLASK_SKIP_DOTENV is set.
os.environ["ENV_FILE"] = os.devnull
os.environ["FLASK_SKIP_DOTENV"] = "1"
