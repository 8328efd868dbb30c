app_name = "kyc"

urlpatterns: list = []
