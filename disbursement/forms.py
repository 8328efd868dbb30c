from django import forms
from django.utils.translation import gettext_lazy as _


class MovementReverseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction"),
        help_text=_("Kept with the reversing movement and in the audit log, e.g. the ticket number."),
        max_length=500,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class PayoutAccountForm(forms.Form):
    channel = forms.ChoiceField(label=_("Bank or e-wallet"), widget=forms.RadioSelect)
    account_number = forms.CharField(
        label=_("Account number or e-wallet number"),
        help_text=_(
            "For an e-wallet: your verified mobile number. For BNI: the account or virtual account number."
        ),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        from disbursement.enums import PayoutChannel

        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = PayoutChannel.choices
