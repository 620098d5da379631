app_name = "classification-api"
urlpatterns: list = []
