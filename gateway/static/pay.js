/* The pay page: Stripe.js turns the card into a PaymentMethod in the browser
   (the card number never reaches the portal); its id goes into the ordinary
   CSRF-protected form, which the server pays with. One submit per page: the
   attempt id in the form makes a resubmission the same payment anyway. */
(function () {
  "use strict";

  function stripeFor(el) {
    var account = el.dataset.account;
    return account ? Stripe(el.dataset.key, { stripeAccount: account }) : Stripe(el.dataset.key);
  }

  function showError(message) {
    var box = document.getElementById("card-error");
    box.textContent = message;
    box.hidden = false;
  }

  async function paymentMethodId(stripe, card) {
    var made = await stripe.createPaymentMethod({ type: "card", card: card });
    if (made && made.paymentMethod) return made.paymentMethod.id;
    if (made && made.error) throw new Error(made.error.message);
    // TEST MODE ONLY: localstripe's Stripe.js stand-in leaves createPaymentMethod
    // empty (it answers undefined, where Stripe answers an object). Its
    // createToken does the same job in the browser: the token's card is a
    // payment method localstripe accepts. Stripe itself never takes this path.
    var token = await stripe.createToken(card);
    if (token && token.token) return token.token.card.id;
    throw new Error((token && token.error && token.error.message) || "Check the card details.");
  }

  var form = document.getElementById("pay-form");
  if (form) {
    var stripe = stripeFor(form);
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    var button = document.getElementById("pay-button");
    var busy = false;
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (busy) return; // a double click: one PaymentMethod, one submit
      busy = true;
      button.disabled = true;
      var label = button.textContent;
      button.textContent = "Paying\u2026";
      try {
        form.elements.payment_method_id.value = await paymentMethodId(stripe, card);
        form.submit();
      } catch (err) {
        showError(err.message || "Check the card details and try again.");
        busy = false;
        button.disabled = false;
        button.textContent = label;
      }
    });
  }

  var confirm = document.getElementById("pay-confirm");
  if (confirm) {
    stripeFor(confirm)
      .confirmCardPayment(confirm.dataset.secret)
      .then(function (result) {
        if (result && result.error) showError(result.error.message);
        window.location.assign(confirm.dataset.next);
      });
  }
})();
