app_name = "disbursement"

urlpatterns: list = []
