"""Extensions, created unbound here and bound to an app in create_app."""

from service.db import Database

db = Database()
